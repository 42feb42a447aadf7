"""The ground floor: the types and helpers every other crmcore module builds on.

Nothing here imports a domain module. Each module holds one idea:

* [`errors`][crmcore.kernel.errors]: the exception hierarchy under ``CrmError``;
* [`events`][crmcore.kernel.events]: domain events and ``Outcome`` (a value plus its events);
* [`ids`][crmcore.kernel.ids]: typed identifiers;
* [`money`][crmcore.kernel.money]: ``Money``, exact decimals with a currency;
* [`clock`][crmcore.kernel.clock]: aware datetimes, clocks, microseconds since the epoch;
* [`frozen`][crmcore.kernel.frozen]: ``FrozenDict``;
* [`machine`][crmcore.kernel.machine]: state machines as data (transition tables, guards,
  histories);
* [`codec`][crmcore.kernel.codec]: the JSON codec of every value object;
* [`reports`][crmcore.kernel.reports]: report rendering (HTML tables, JSON numbers);
* [`stage`][crmcore.kernel.stage]: the seven funnel stages, the vocabulary records share;
* [`countries`][crmcore.kernel.countries], [`currencies`][crmcore.kernel.currencies]: ISO reference
  data;
* [`arrays`][crmcore.kernel.arrays], [`validators`][crmcore.kernel.validators],
  [`deprecation`][crmcore.kernel.deprecation]: numpy type names, shared attrs validators,
  renamed names that keep working for a release.
"""
