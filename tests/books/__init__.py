"""Hand-written AFAS books: entries typed out (not generated), served through the simulator's
HTTP layer so the real pipeline extracts them, with the truth of every mart typed out too."""
