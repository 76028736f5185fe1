"""The retired v1 API (epc.opendatacommunities.org) and the archives and mirrors that serve its
contract: its client, dlt resources, plan of work, raw tables and bulk files."""
