"""Storage behind small interfaces (accounts, rosters); memory is the default backend."""
