"""Steps, fan-out over centres, Prefect flows and the monthly schedule."""
