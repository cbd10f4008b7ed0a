"""The user-facing, versioned spec: YAML in, validated plain data out (no generator concerns)."""
