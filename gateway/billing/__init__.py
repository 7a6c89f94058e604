"""Billing: contracts priced per period, invoices, EDIFACT INVOIC interchanges."""
