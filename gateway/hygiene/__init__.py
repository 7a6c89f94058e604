"""Mail hygiene: automatic mail, delivery reports, sender verification and quoted history."""
