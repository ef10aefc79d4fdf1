"""Operations: health and readiness probes, logging."""
