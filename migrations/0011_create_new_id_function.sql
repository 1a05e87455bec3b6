-- IDs minted inside the database, for rows a statement creates in a number it cannot know
-- beforehand: the upload's single statement (common/invoices/repository.py insert_upload)
-- adds one webhook delivery per subscribed endpoint. The same form as common/ids.py
-- new_id: the prefix, `_`, and a ULID (48 bits of Unix time in milliseconds, then 80 random
-- bits, in Crockford's base32), so these IDs sort by creation time with the others.
--
-- The random bits are the 80 of a version 4 UUID that are random: bytes 1-6 and 11-14
-- (byte 7 holds the version, byte 9 the variant).
create function invex_new_id(prefix text) returns text
language sql volatile parallel safe
as $$
    select prefix || '_' || string_agg(
        substr('0123456789ABCDEFGHJKMNPQRSTVWXYZ', substring(ulid from n * 5 + 1 for 5)::int + 1, 1),
        '' order by n)
    from (
        select B'00'
            || floor(extract(epoch from clock_timestamp()) * 1000)::bigint::bit(48)
            || ('x' || encode(substr(u, 1, 6) || substr(u, 11, 4), 'hex'))::bit(80) as ulid
        from (select uuid_send(gen_random_uuid()) as u) as random
    ) as bits, generate_series(0, 25) as n
$$;
