from dealbridge.web.security.tokens import TOKEN_PREFIX, looks_like_token, new_token_value


def test_tokens_are_prefixed_random_and_well_formed() -> None:
    values = {new_token_value() for _ in range(200)}
    assert len(values) == 200
    for value in values:
        assert value.startswith(TOKEN_PREFIX)
        assert looks_like_token(value)
        assert len(value) == len(TOKEN_PREFIX) + 43  # 32 bytes, URL-safe base64


def test_shape_check_refuses_near_misses() -> None:
    good = new_token_value()
    for bad in [
        "",
        good[4:],
        "dbt_short",
        good + "x",
        good.replace("dbt_", "xyz_"),
        good[:-1] + "!",
    ]:
        assert not looks_like_token(bad)
