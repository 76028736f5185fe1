"""Local doubles of the EPC APIs, served over real HTTP on 127.0.0.1."""
