pytest_plugins = ["salesync_common.testing"]
