"""The Levels page: create, rename, describe and delete access levels."""
