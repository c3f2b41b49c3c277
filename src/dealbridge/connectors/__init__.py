"""One folder per remote system, each with the same file names and its own emulator."""
