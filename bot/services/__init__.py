"""Services orchestrate storage and the pure domain rules; handlers call only these."""
