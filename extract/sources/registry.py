"""The registry of API sources: `--source NAME` → its class. The first is the default source
unless another's credentials alone are configured (see `settings.load_settings`)."""

from __future__ import annotations

from extract.sources.base import Source
from extract.sources.mhclg.plan import MhclgSource
from extract.sources.odc.plan import OdcSource

SOURCES: dict[str, type[Source]] = {cls.name: cls for cls in (MhclgSource, OdcSource)}
