"""Threading and continuation: which ticket a message belongs to, and a ticket's life after it is resolved."""
