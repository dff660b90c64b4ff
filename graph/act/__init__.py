"""Acting on what detection found: chokepoints to block, related campaigns, partner indicators (docs/acting.md)."""
