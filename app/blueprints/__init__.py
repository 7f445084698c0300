"""HTTP only: parse, authorise, call a service, render. One module per area."""
