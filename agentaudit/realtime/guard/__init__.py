"""Guard: answer allow / ask / deny to an agent's pending call, before it runs."""
