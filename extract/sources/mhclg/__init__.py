"""The live service, MHCLG's "Get energy performance of buildings data" API: its client, dlt
resources, plan of work, raw tables and bulk files (the monthly full loads)."""
