"""Settings, collection windows and code lists: everything that changes by year or deployment."""
