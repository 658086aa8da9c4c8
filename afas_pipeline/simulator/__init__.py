"""The AFAS simulator: the App Connector protocol over a generated ledger (see app.py)."""

# What the simulator says about itself in `GET /ProfitVersion` ("simulator"): real AFAS never
# does, so the write-back trusts it (with a loopback address) instead of guessing from the host.
SIMULATOR_MARK = "afas-pipeline simulator"
