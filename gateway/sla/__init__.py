"""SLA clocks: working calendars and the arithmetic of working time on them."""
