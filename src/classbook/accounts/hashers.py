"""Password hashing: Argon2id with OWASP's recommended cost, not Django's default.

Django's default Argon2 parameters take 100 MiB of memory per hash (8 lanes). A gunicorn
worker with 4 threads logging 4 parents in at once on registration morning would then
need 400 MiB for hashing alone. OWASP's first recommended setting (19 MiB, 2 passes, 1
lane) keeps Argon2id's resistance to GPU cracking at a fifth of the memory. Hashes made
with other parameters still verify and are upgraded at the next log-in (Django's
``must_update``).
"""

from django.contrib.auth.hashers import Argon2PasswordHasher


class ClassbookArgon2Hasher(Argon2PasswordHasher):
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
