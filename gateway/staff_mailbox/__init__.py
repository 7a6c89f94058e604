"""The technicians' mailbox: staff mail on a ticket becomes answers, notes or commands."""
