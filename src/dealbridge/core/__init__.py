"""The kernel every other layer builds on; it imports no connector."""
