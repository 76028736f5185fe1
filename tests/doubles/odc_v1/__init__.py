"""Double of the legacy v1 API (epc.opendatacommunities.org): `OdcV1Double`, `Dataset`."""

from tests.doubles.odc_v1.dataset import Dataset
from tests.doubles.odc_v1.server import Fault, OdcV1Double

__all__ = ["Dataset", "Fault", "OdcV1Double"]
