"""The credential the tests' users hold (see the ``credentials_of_the_test`` fixture)."""

TEST_PASSWORD = "a test password, long enough"
"""Users created with ``add_user(..., password=TEST_PASSWORD)`` can act through the CLI."""
