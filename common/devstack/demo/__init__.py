"""`ticketing demo`: a running stack filled with a deterministic, realistic marketplace."""
