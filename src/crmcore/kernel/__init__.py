"""The ground floor: the types and helpers every other crmcore module builds on.

Nothing here imports a domain module. Each module holds one idea:

* :mod:`~crmcore.kernel.errors`: the exception hierarchy under ``CrmError``;
* :mod:`~crmcore.kernel.events`: domain events and ``Outcome`` (a value plus its events);
* :mod:`~crmcore.kernel.ids`: typed identifiers;
* :mod:`~crmcore.kernel.money`: ``Money``, exact decimals with a currency;
* :mod:`~crmcore.kernel.clock`: aware datetimes, clocks, microseconds since the epoch;
* :mod:`~crmcore.kernel.frozen`: ``FrozenDict``;
* :mod:`~crmcore.kernel.machine`: state machines as data (transition tables, guards, histories);
* :mod:`~crmcore.kernel.codec`: the JSON codec of every value object;
* :mod:`~crmcore.kernel.reports`: report rendering (HTML tables, JSON numbers);
* :mod:`~crmcore.kernel.stage`: the seven funnel stages, the vocabulary records share;
* :mod:`~crmcore.kernel.countries`, :mod:`~crmcore.kernel.currencies`: ISO reference data;
* :mod:`~crmcore.kernel.arrays`, :mod:`~crmcore.kernel.validators`,
  :mod:`~crmcore.kernel.deprecation`: numpy type names, shared attrs validators,
  renamed names that keep working for a release.
"""
