"""Double of MHCLG's live "Get energy performance of buildings data" API: `MhclgDouble`, `Dataset`."""

from tests.doubles.mhclg.dataset import Certificate, Dataset, Event
from tests.doubles.mhclg.server import Fault, Logged, MhclgDouble

__all__ = ["Certificate", "Dataset", "Event", "Fault", "Logged", "MhclgDouble"]
