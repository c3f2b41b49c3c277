"""Both emulators as real processes: the contract suite's start-up fixtures, reused."""

from tests.contract.conftest import start_netsuite_emulator, start_salesforce_emulator

__all__ = ["start_netsuite_emulator", "start_salesforce_emulator"]
