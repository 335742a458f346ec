"""The production password hasher (tests themselves hash with MD5 for speed)."""

from django.contrib.auth.hashers import Argon2PasswordHasher

from classbook.accounts.hashers import ClassbookArgon2Hasher


def test_production_settings_hash_with_the_lighter_argon2id():
    import classbook.settings as production

    assert production.PASSWORD_HASHERS[0] == "classbook.accounts.hashers.ClassbookArgon2Hasher"


def test_hashes_use_19_mib_two_passes_one_lane_and_verify():
    hasher = ClassbookArgon2Hasher()
    encoded = hasher.encode("Rush-Parent-2026", hasher.salt())
    assert "$argon2id$" in encoded and "m=19456,t=2,p=1" in encoded
    assert hasher.verify("Rush-Parent-2026", encoded)
    assert not hasher.verify("wrong password", encoded)
    assert not hasher.must_update(encoded)


def test_hashes_made_with_djangos_default_still_verify_and_get_upgraded():
    old = Argon2PasswordHasher().encode("Old-Password-1", Argon2PasswordHasher().salt())
    hasher = ClassbookArgon2Hasher()
    assert hasher.verify("Old-Password-1", old)
    assert hasher.must_update(old)
