"""Reference codes customers quote to follow their feedback (e.g. LD-7K2Q9H)."""
import secrets

#: No 0/O, 1/I/L: codes are read out over the phone.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 6  # 31**6 ≈ 887 million


def new_reference_code() -> str:
    return "LD-" + "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))

