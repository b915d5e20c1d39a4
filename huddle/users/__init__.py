"""Users > Manage (the list), and one user's page with their fields and levels."""
