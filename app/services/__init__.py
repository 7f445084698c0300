"""Operations that combine models and rules in one transaction. They flush; callers commit."""
