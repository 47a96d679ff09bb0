"""Reading a deal: copilot.reading.model (DealReading) and copilot.reading.build (read_deal)."""
