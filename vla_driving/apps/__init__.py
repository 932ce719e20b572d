"""Applications above the runtime: the CLIs, benches, closed-loop runner and bag player."""
