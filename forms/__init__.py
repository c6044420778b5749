"""Every form of the app: its fields, validators and messages, in one place per area.

A view builds the form, calls `form.validate_on_submit()`, and hands the clean,
typed values to a service; templates render `form.errors`. Services still
enforce the rules they own (tenancy, merges, conflicts).

- `base`: the `Form` every form builds on (WTForms' messages loaded once per language);
- `fields`: amounts, dates and ids, read through `services.values`;
- `auth`, `settings`: logging in, the referred deals pipeline;
- `deal`: the deal's own fields, one small form each;
- `shared_deal`: creating a shared deal;
- `card`: the shared deal card: team, product interest, notes, registrations;
- `views`: saved views of the deals index.
"""
