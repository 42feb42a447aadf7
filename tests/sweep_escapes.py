"""What the bad-input sweep knows it cannot yet pass, and why.

``EXPECTED``: callables where a hostile argument still escapes as something other than a
``CrmError``, in files the sweep's author does not own. Each reason names where it escapes and the
fix; the test is a strict xfail, so it turns red once the fix lands and the entry must then be
removed.

``UNREACHED``: callables for which the sweep cannot yet build a valid call (a value ``BASE`` in
``tests/sweep_world.py`` still needs), with the first failure. They are swept shallowly (the
missing arguments are ``None``, the hostile values still meet the first checks); one that becomes
reachable fails its test until it is removed from here.
"""

# ruff: noqa: E501 - one reason per line reads best

from __future__ import annotations

from typing import Final

EXPECTED: Final[dict[str, str]] = {
    "crmcore.analytics.bgnbd.BgNbdModel.plot": (
        "kind (NaN array, empty array): ValueError in crmcore/plotting/clv.py plot_purchase_model; fix: validate kind where it enters (plot) with a ValidationError naming it"
    ),
    "crmcore.analytics.bgnbd.bgnbd_log_likelihood": (
        "params (None, True): ValueError in crmcore/analytics/bgnbd.py bgnbd_log_likelihood; fix: validate params where it enters (bgnbd_log_likelihood) with a ValidationError naming it; frequency (None, True): ValueError in crmcore/analytics/bgnbd.py bgnbd_log_likelihood; fix: validate frequency where it enters (bgnbd_log_likelihood) with a ValidationError naming it; frequency (empty dict, dict): TypeError in crmcore/analytics/bgnbd.py bgnbd_log_likelihood; fix: validate frequency where it enters (bgnbd_log_likelihood) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.analytics.bgnbd.fit_bgnbd": (
        "initial (None, 1.5 (a float for an int)): TypeError in crmcore/analytics/bgnbd.py fit_bgnbd; fix: validate initial where it enters (fit_bgnbd) with a ValidationError naming it; max_iterations (None, object): TypeError in crmcore/analytics/_optimize.py maximise; fix: validate max_iterations where it enters (fit_bgnbd) with a ValidationError naming it; max_iterations (str array): UFuncTypeError in crmcore/analytics/_optimize.py maximise; fix: validate max_iterations where it enters (fit_bgnbd) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.analytics.btyd.BtydSummary": (
        "time_unit (NaN array, empty array): ValueError in crmcore/analytics/btyd.py _period; fix: validate time_unit where it enters (BtydSummary) with a ValidationError naming it; period (NaN array, empty array): ValueError in crmcore/analytics/btyd.py _period; fix: validate period where it enters (BtydSummary) with a ValidationError naming it"
    ),
    "crmcore.analytics.btyd.summary_from_transactions": (
        "period (NaN array, empty array): ValueError in crmcore/analytics/btyd.py _period; fix: validate period where it enters (summary_from_transactions) with a ValidationError naming it; time_unit (NaN array, empty array): ValueError in crmcore/analytics/btyd.py _period; fix: validate time_unit where it enters (summary_from_transactions) with a ValidationError naming it"
    ),
    "crmcore.analytics.churn.ChurnRisk.at_risk": (
        "top (1.5 (a float for an int), bytes): TypeError in crmcore/analytics/churn.py at_risk; fix: validate top where it enters (at_risk) with a ValidationError naming it; include_churned (NaN array, empty array): ValueError in crmcore/analytics/churn.py at_risk; fix: validate include_churned where it enters (at_risk) with a ValidationError naming it"
    ),
    "crmcore.analytics.churn.ChurnRisk.has_reason": (
        "reason (None, True): ValueError in crmcore/analytics/churn.py has_reason; fix: validate reason where it enters (has_reason) with a ValidationError naming it"
    ),
    "crmcore.analytics.churn.ChurnRisk.reasons_of": (
        "row (lone surrogate): UnicodeEncodeError in crmcore/analytics/churn.py _row; fix: validate row where it enters (reasons_of) with a ValidationError naming it"
    ),
    "crmcore.analytics.churn.CustomerValues.aligned": (
        "ids (None, True): TypeError in crmcore/analytics/churn.py _positions; fix: validate ids where it enters (aligned) with a ValidationError naming it; ids (bytes, empty list): AttributeError in crmcore/analytics/churn.py _positions; fix: validate ids where it enters (aligned) with a ValidationError naming it"
    ),
    "crmcore.analytics.churn.CustomerValues.from_mapping": (
        "values (None, True): TypeError in crmcore/analytics/churn.py from_mapping; fix: validate values where it enters (from_mapping) with a ValidationError naming it; values (bytes, empty list): AttributeError in crmcore/analytics/churn.py from_mapping; fix: validate values where it enters (from_mapping) with a ValidationError naming it"
    ),
    "crmcore.analytics.clv.customer_lifetime_value": (
        "months (2**63): OverflowError in crmcore/analytics/clv.py _month_steps; fix: validate months where it enters (customer_lifetime_value) with a ValidationError naming it; month (NaN array, empty array): ValueError in crmcore/analytics/clv.py customer_lifetime_value; fix: validate month where it enters (customer_lifetime_value) with a ValidationError naming it"
    ),
    "crmcore.analytics.cohorts.CohortMatrix.plot": (
        "value (NaN array, empty array): ValueError in crmcore/plotting/cohorts.py plot_cohort_heatmap; fix: validate value where it enters (plot) with a ValidationError naming it"
    ),
    "crmcore.analytics.cohorts.CohortMatrix.row": (
        "label (NaN array, empty array): ValueError in crmcore/analytics/cohorts.py row; fix: validate label where it enters (row) with a ValidationError naming it"
    ),
    "crmcore.analytics.cohorts.cohort_matrix": (
        "as_of (far-future datetime): MemoryError in crmcore/analytics/kpis.py unit_totals; fix: validate as_of where it enters (cohort_matrix) with a ValidationError naming it; period (NaN array, empty array): ValueError in crmcore/analytics/cohorts.py cohort_matrix; fix: validate period where it enters (cohort_matrix) with a ValidationError naming it"
    ),
    "crmcore.analytics.cohorts.period_index": (
        "micros (None, True): TypeError in crmcore/analytics/cohorts.py period_index; fix: validate micros where it enters (period_index) with a ValidationError naming it; micros (NaN array): ValueError in crmcore/analytics/cohorts.py period_index; fix: validate micros where it enters (period_index) with a ValidationError naming it; micros (2-D array): IndexError in crmcore/analytics/cohorts.py period_index; fix: validate micros where it enters (period_index) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.analytics.gamma_gamma.fit_gamma_gamma": (
        "initial (None, 1.5 (a float for an int)): TypeError in crmcore/analytics/gamma_gamma.py fit_gamma_gamma; fix: validate initial where it enters (fit_gamma_gamma) with a ValidationError naming it; max_iterations (None, object): TypeError in crmcore/analytics/_optimize.py maximise; fix: validate max_iterations where it enters (fit_gamma_gamma) with a ValidationError naming it; max_iterations (str array): UFuncTypeError in crmcore/analytics/_optimize.py maximise; fix: validate max_iterations where it enters (fit_gamma_gamma) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.analytics.kpis.HistoricalClv.value_of": (
        "customer (empty list, NaN array): ValueError in crmcore/analytics/kpis.py value_of; fix: validate customer where it enters (value_of) with a ValidationError naming it; customer (lone surrogate): UnicodeEncodeError in crmcore/analytics/kpis.py value_of; fix: validate customer where it enters (value_of) with a ValidationError naming it"
    ),
    "crmcore.analytics.quantiles.quantile_scores": (
        "ties (NaN array, empty array): ValueError in crmcore/analytics/quantiles.py _check_ties; fix: validate ties where it enters (quantile_scores) with a ValidationError naming it"
    ),
    "crmcore.analytics.rfm.RfmReport.plot": (
        "size (NaN array, empty array): ValueError in crmcore/plotting/rfm.py plot_rfm_segments; fix: validate size where it enters (plot) with a ValidationError naming it"
    ),
    "crmcore.analytics.rfm.RfmReport.segment": (
        "name (NaN array, empty array): ValueError in crmcore/analytics/rfm.py segment; fix: validate name where it enters (segment) with a ValidationError naming it"
    ),
    "crmcore.analytics.rfm.RfmTable.customers_in": (
        "segment (NaN array, empty array): ValueError in crmcore/analytics/rfm.py mask; fix: validate segment where it enters (customers_in) with a ValidationError naming it"
    ),
    "crmcore.analytics.rfm.RfmTable.index_of": (
        "customer (empty list, NaN array): ValueError in crmcore/analytics/rfm.py index_of; fix: validate customer where it enters (index_of) with a ValidationError naming it; customer (lone surrogate): UnicodeEncodeError in crmcore/analytics/rfm.py index_of; fix: validate customer where it enters (index_of) with a ValidationError naming it"
    ),
    "crmcore.analytics.rfm.RfmTable.mask": (
        "segment (NaN array, empty array): ValueError in crmcore/analytics/rfm.py mask; fix: validate segment where it enters (mask) with a ValidationError naming it"
    ),
    "crmcore.analytics.rfm.RfmTable.plot": (
        "kind (NaN array, empty array): ValueError in crmcore/analytics/rfm.py plot; fix: validate kind where it enters (plot) with a ValidationError naming it"
    ),
    "crmcore.analytics.rfm.RfmTable.row": (
        "customer (lone surrogate): UnicodeEncodeError in crmcore/analytics/rfm.py index_of; fix: validate customer where it enters (row) with a ValidationError naming it"
    ),
    "crmcore.analytics.rfm.rfm_scores": (
        "ties (NaN array, empty array): ValueError in crmcore/analytics/quantiles.py _check_ties; fix: validate ties where it enters (rfm_scores) with a ValidationError naming it; monetary (NaN array, empty array): ValueError in crmcore/analytics/rfm.py rfm_scores; fix: validate monetary where it enters (rfm_scores) with a ValidationError naming it; spend (NaN array, empty array): ValueError in crmcore/analytics/rfm.py rfm_scores; fix: validate spend where it enters (rfm_scores) with a ValidationError naming it"
    ),
    "crmcore.analytics.rfm_segments.SegmentMap.from_codes": (
        "segments (None, True): AttributeError in crmcore/analytics/rfm_segments.py from_codes; fix: validate segments where it enters (from_codes) with a ValidationError naming it; segments (dict): TypeError in crmcore/analytics/rfm_segments.py from_codes; fix: validate segments where it enters (from_codes) with a ValidationError naming it"
    ),
    "crmcore.analytics.rfm_segments.SegmentMap.segment_of": (
        "r (None, bytes): TypeError in crmcore/analytics/rfm_segments.py matches; fix: validate r where it enters (segment_of) with a ValidationError naming it; r (Decimal NaN): InvalidOperation in crmcore/analytics/rfm_segments.py matches; fix: validate r where it enters (segment_of) with a ValidationError naming it; r (NaN array, empty array): ValueError in crmcore/analytics/rfm_segments.py matches; fix: validate r where it enters (segment_of) with a ValidationError naming it; and 9 more"
    ),
    "crmcore.analytics.rfm_segments.SegmentRule.matches": (
        "r (None, bytes): TypeError in crmcore/analytics/rfm_segments.py matches; fix: validate r where it enters (matches) with a ValidationError naming it; r (Decimal NaN): InvalidOperation in crmcore/analytics/rfm_segments.py matches; fix: validate r where it enters (matches) with a ValidationError naming it; r (NaN array, empty array): ValueError in crmcore/analytics/rfm_segments.py matches; fix: validate r where it enters (matches) with a ValidationError naming it; and 9 more"
    ),
    "crmcore.analytics.value_tiers.ValueTiers.mask": (
        "tier (NaN array, empty array): ValueError in crmcore/analytics/value_tiers.py mask; fix: validate tier where it enters (mask) with a ValidationError naming it"
    ),
    "crmcore.analytics.value_tiers.value_tiers": (
        "ties (NaN array, empty array): ValueError in crmcore/analytics/value_tiers.py value_tiers; fix: validate ties where it enters (value_tiers) with a ValidationError naming it"
    ),
    "crmcore.columnar.columns.Column.from_numpy": (
        "kind (empty list, list of None): TypeError in crmcore/columnar/columns.py from_numpy; fix: validate kind where it enters (from_numpy) with a ValidationError naming it"
    ),
    "crmcore.columnar.columns.Column.from_values": (
        "kind (NaN array, empty array): ValueError in crmcore/columnar/columns.py from_values; fix: validate kind where it enters (from_values) with a ValidationError naming it; values (None, True): TypeError in crmcore/columnar/columns.py from_values; fix: validate values where it enters (from_values) with a ValidationError naming it; values (lone surrogate): UnicodeEncodeError in crmcore/columnar/_builders.py add_objects; fix: validate values where it enters (from_values) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.columnar.columns.Column.isin": (
        "values (None, True): TypeError in crmcore/columnar/columns.py isin; fix: validate values where it enters (isin) with a ValidationError naming it"
    ),
    "crmcore.columnar.columns.Column.take": (
        "indices (1.5 (a float for an int), bytes): IndexError in crmcore/columnar/columns.py take; fix: validate indices where it enters (take) with a ValidationError naming it; indices (2**63): OverflowError in crmcore/columnar/columns.py take; fix: validate indices where it enters (take) with a ValidationError naming it"
    ),
    "crmcore.columnar.frame.CustomerFrame": (
        "columns (None, True): AttributeError in crmcore/columnar/table.py __init__; fix: validate columns where it enters (CustomerFrame) with a ValidationError naming it"
    ),
    "crmcore.columnar.frame.CustomerFrame.column": (
        "name (empty list, list of None): TypeError in crmcore/columnar/table.py column; fix: validate name where it enters (column) with a ValidationError naming it"
    ),
    "crmcore.columnar.frame.CustomerFrame.from_csv": (
        "source (None, True): AttributeError in crmcore/columnar/csvio.py readinto; fix: validate source where it enters (from_csv) with a ValidationError naming it; source (empty str, control str): FileNotFoundError in crmcore/columnar/csvio.py _open; fix: validate source where it enters (from_csv) with a ValidationError naming it; source (huge str): OSError in crmcore/columnar/csvio.py _open; fix: validate source where it enters (from_csv) with a ValidationError naming it; and 12 more"
    ),
    "crmcore.columnar.frame.CustomerFrame.from_customers": (
        "customers (None, True): TypeError in crmcore/columnar/frame.py from_customers; fix: validate customers where it enters (from_customers) with a ValidationError naming it; customers (bytes, list of None): AttributeError in crmcore/columnar/schema.py customer_record; fix: validate customers where it enters (from_customers) with a ValidationError naming it"
    ),
    "crmcore.columnar.frame.CustomerFrame.from_pandas": (
        "df (None, True): AttributeError in crmcore/columnar/table.py from_pandas; fix: validate df where it enters (from_pandas) with a ValidationError naming it; columns (None, empty dict): AttributeError in crmcore/columnar/table.py from_pandas; fix: validate columns where it enters (from_pandas) with a ValidationError naming it; columns (NaN array, empty array): ValueError in crmcore/columnar/reading.py _mapping; fix: validate columns where it enters (from_pandas) with a ValidationError naming it; and 7 more"
    ),
    "crmcore.columnar.frame.CustomerFrame.from_records": (
        "records (None, True): TypeError in crmcore/columnar/table.py from_records; fix: validate records where it enters (from_records) with a ValidationError naming it; columns (NaN array, empty array): ValueError in crmcore/columnar/reading.py _mapping; fix: validate columns where it enters (from_records) with a ValidationError naming it; tz (huge str): OSError in crmcore/columnar/reading.py _zone; fix: validate tz where it enters (from_records) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.columnar.frame.CustomerFrame.index_of": (
        "ids (None, True): TypeError in crmcore/columnar/frame.py index_of; fix: validate ids where it enters (index_of) with a ValidationError naming it; ids (lone surrogate): UnicodeEncodeError in crmcore/columnar/frame.py index_of; fix: validate ids where it enters (index_of) with a ValidationError naming it"
    ),
    "crmcore.columnar.frame.CustomerFrame.to_csv": (
        "target (None, True): TypeError in crmcore/columnar/csvio.py write_csv; fix: validate target where it enters (to_csv) with a ValidationError naming it; target (empty str): FileNotFoundError in crmcore/columnar/csvio.py _open; fix: validate target where it enters (to_csv) with a ValidationError naming it; target (huge str): OSError in crmcore/columnar/csvio.py _open; fix: validate target where it enters (to_csv) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.columnar.frame.EventLog": (
        "columns (None, True): AttributeError in crmcore/columnar/table.py __init__; fix: validate columns where it enters (EventLog) with a ValidationError naming it"
    ),
    "crmcore.columnar.frame.EventLog.column": (
        "name (empty list, list of None): TypeError in crmcore/columnar/table.py column; fix: validate name where it enters (column) with a ValidationError naming it"
    ),
    "crmcore.columnar.frame.EventLog.from_csv": (
        "source (None, True): AttributeError in crmcore/columnar/csvio.py readinto; fix: validate source where it enters (from_csv) with a ValidationError naming it; source (empty str): FileNotFoundError in crmcore/columnar/csvio.py _open; fix: validate source where it enters (from_csv) with a ValidationError naming it; source (huge str): OSError in crmcore/columnar/csvio.py _open; fix: validate source where it enters (from_csv) with a ValidationError naming it; and 12 more"
    ),
    "crmcore.columnar.frame.EventLog.from_interactions": (
        "interactions (None, True): TypeError in crmcore/columnar/frame.py from_interactions; fix: validate interactions where it enters (from_interactions) with a ValidationError naming it; interactions (bytes, list of None): AttributeError in crmcore/columnar/frame.py <genexpr>; fix: validate interactions where it enters (from_interactions) with a ValidationError naming it"
    ),
    "crmcore.columnar.frame.EventLog.from_pandas": (
        "df (None, True): AttributeError in crmcore/columnar/table.py from_pandas; fix: validate df where it enters (from_pandas) with a ValidationError naming it; columns (None, empty dict): AttributeError in crmcore/columnar/table.py from_pandas; fix: validate columns where it enters (from_pandas) with a ValidationError naming it; columns (NaN array, empty array): ValueError in crmcore/columnar/reading.py _mapping; fix: validate columns where it enters (from_pandas) with a ValidationError naming it; and 7 more"
    ),
    "crmcore.columnar.frame.EventLog.from_records": (
        "records (None, True): TypeError in crmcore/columnar/table.py from_records; fix: validate records where it enters (from_records) with a ValidationError naming it; columns (NaN array, empty array): ValueError in crmcore/columnar/reading.py _mapping; fix: validate columns where it enters (from_records) with a ValidationError naming it; tz (huge str): OSError in crmcore/columnar/reading.py _zone; fix: validate tz where it enters (from_records) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.columnar.frame.EventLog.to_csv": (
        "target (None, True): TypeError in crmcore/columnar/csvio.py write_csv; fix: validate target where it enters (to_csv) with a ValidationError naming it; target (empty str): FileNotFoundError in crmcore/columnar/csvio.py _open; fix: validate target where it enters (to_csv) with a ValidationError naming it; target (huge str): OSError in crmcore/columnar/csvio.py _open; fix: validate target where it enters (to_csv) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.columnar.frame.EventLog.with_customer_index": (
        "customers (None, True): AttributeError in crmcore/columnar/frame.py with_customer_index; fix: validate customers where it enters (with_customer_index) with a ValidationError naming it"
    ),
    "crmcore.columnar.frame.TransactionLog": (
        "columns (None, True): AttributeError in crmcore/columnar/table.py __init__; fix: validate columns where it enters (TransactionLog) with a ValidationError naming it"
    ),
    "crmcore.columnar.frame.TransactionLog.column": (
        "name (empty list, list of None): TypeError in crmcore/columnar/table.py column; fix: validate name where it enters (column) with a ValidationError naming it"
    ),
    "crmcore.columnar.frame.TransactionLog.from_csv": (
        "source (None, True): AttributeError in crmcore/columnar/csvio.py readinto; fix: validate source where it enters (from_csv) with a ValidationError naming it; source (empty str): FileNotFoundError in crmcore/columnar/csvio.py _open; fix: validate source where it enters (from_csv) with a ValidationError naming it; source (huge str): OSError in crmcore/columnar/csvio.py _open; fix: validate source where it enters (from_csv) with a ValidationError naming it; and 12 more"
    ),
    "crmcore.columnar.frame.TransactionLog.from_pandas": (
        "df (None, True): AttributeError in crmcore/columnar/table.py from_pandas; fix: validate df where it enters (from_pandas) with a ValidationError naming it; columns (None, empty dict): AttributeError in crmcore/columnar/table.py from_pandas; fix: validate columns where it enters (from_pandas) with a ValidationError naming it; columns (NaN array, empty array): ValueError in crmcore/columnar/reading.py _mapping; fix: validate columns where it enters (from_pandas) with a ValidationError naming it; and 7 more"
    ),
    "crmcore.columnar.frame.TransactionLog.from_purchases": (
        "purchases (None, True): TypeError in crmcore/columnar/frame.py from_purchases; fix: validate purchases where it enters (from_purchases) with a ValidationError naming it; purchases (bytes, list of None): AttributeError in crmcore/columnar/frame.py <genexpr>; fix: validate purchases where it enters (from_purchases) with a ValidationError naming it"
    ),
    "crmcore.columnar.frame.TransactionLog.from_records": (
        "records (None, True): TypeError in crmcore/columnar/table.py from_records; fix: validate records where it enters (from_records) with a ValidationError naming it; columns (NaN array, empty array): ValueError in crmcore/columnar/reading.py _mapping; fix: validate columns where it enters (from_records) with a ValidationError naming it; tz (huge str): OSError in crmcore/columnar/reading.py _zone; fix: validate tz where it enters (from_records) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.columnar.frame.TransactionLog.to_csv": (
        "target (None, True): TypeError in crmcore/columnar/csvio.py write_csv; fix: validate target where it enters (to_csv) with a ValidationError naming it; target (empty str): FileNotFoundError in crmcore/columnar/csvio.py _open; fix: validate target where it enters (to_csv) with a ValidationError naming it; target (huge str): OSError in crmcore/columnar/csvio.py _open; fix: validate target where it enters (to_csv) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.columnar.frame.TransactionLog.with_customer_index": (
        "customers (None, True): AttributeError in crmcore/columnar/frame.py with_customer_index; fix: validate customers where it enters (with_customer_index) with a ValidationError naming it"
    ),
    "crmcore.columnar.frame.ages_on": (
        "born (None, True): TypeError in crmcore/columnar/frame.py ages_on; fix: validate born where it enters (ages_on) with a ValidationError naming it; day (None, True): AttributeError in crmcore/columnar/frame.py ages_on; fix: validate day where it enters (ages_on) with a ValidationError naming it"
    ),
    "crmcore.columnar.occasions.Occasions.up_to": (
        "as_us (None, list of None): TypeError in crmcore/columnar/occasions.py up_to; fix: validate as_us where it enters (up_to) with a ValidationError naming it; as_us (bytes, empty str): UFuncTypeError in crmcore/columnar/occasions.py up_to; fix: validate as_us where it enters (up_to) with a ValidationError naming it; as_us (empty list, NaN array): ValueError in crmcore/columnar/occasions.py up_to; fix: validate as_us where it enters (up_to) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.columnar.occasions.data_used": (
        "log (None, True): AttributeError in crmcore/columnar/occasions.py data_used; fix: validate log where it enters (data_used) with a ValidationError naming it; occasions (None, True): AttributeError in crmcore/columnar/occasions.py data_used; fix: validate occasions where it enters (data_used) with a ValidationError naming it; as_us (None, list of None): TypeError in crmcore/columnar/occasions.py data_used; fix: validate as_us where it enters (data_used) with a ValidationError naming it; and 3 more"
    ),
    "crmcore.columnar.reading.ReadOptions": (
        "columns (NaN array, empty array): ValueError in crmcore/columnar/reading.py _mapping; fix: validate columns where it enters (ReadOptions) with a ValidationError naming it; tz (huge str): OSError in crmcore/columnar/reading.py _zone; fix: validate tz where it enters (ReadOptions) with a ValidationError naming it; extra (NaN array, empty array): ValueError in crmcore/columnar/reading.py check; fix: validate extra where it enters (ReadOptions) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.columnar.reading.ReadOptions.targets": (
        "names (None, True): TypeError in crmcore/columnar/reading.py targets; fix: validate names where it enters (targets) with a ValidationError naming it; known (None, True): TypeError in crmcore/columnar/reading.py targets; fix: validate known where it enters (targets) with a ValidationError naming it"
    ),
    "crmcore.columnar.reading.read_options": (
        "columns (NaN array, empty array): ValueError in crmcore/columnar/reading.py _mapping; fix: validate columns where it enters (read_options) with a ValidationError naming it; tz (huge str): OSError in crmcore/columnar/reading.py _zone; fix: validate tz where it enters (read_options) with a ValidationError naming it; extra (NaN array, empty array): ValueError in crmcore/columnar/reading.py check; fix: validate extra where it enters (read_options) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.columnar.schema.customer_record": (
        "customer (None, True): AttributeError in crmcore/columnar/schema.py customer_record; fix: validate customer where it enters (customer_record) with a ValidationError naming it"
    ),
    "crmcore.columnar.table.Frame": (
        "columns (None, True): TypeError in crmcore/columnar/table.py _schema_of; fix: validate columns where it enters (Frame) with a ValidationError naming it"
    ),
    "crmcore.columnar.table.Frame.column": (
        "name (empty list, list of None): TypeError in crmcore/columnar/table.py column; fix: validate name where it enters (column) with a ValidationError naming it"
    ),
    "crmcore.columnar.table.Frame.from_csv": (
        "source (None, True): TypeError in crmcore/columnar/table.py _schema_of; fix: validate source where it enters (from_csv) with a ValidationError naming it; columns (None, empty dict): TypeError in crmcore/columnar/table.py _schema_of; fix: validate columns where it enters (from_csv) with a ValidationError naming it; columns (NaN array, empty array): ValueError in crmcore/columnar/reading.py _mapping; fix: validate columns where it enters (from_csv) with a ValidationError naming it; and 8 more"
    ),
    "crmcore.columnar.table.Frame.from_pandas": (
        "df (None, True): TypeError in crmcore/columnar/table.py _schema_of; fix: validate df where it enters (from_pandas) with a ValidationError naming it; columns (None, empty dict): TypeError in crmcore/columnar/table.py _schema_of; fix: validate columns where it enters (from_pandas) with a ValidationError naming it; columns (NaN array, empty array): ValueError in crmcore/columnar/reading.py _mapping; fix: validate columns where it enters (from_pandas) with a ValidationError naming it; and 7 more"
    ),
    "crmcore.columnar.table.Frame.from_records": (
        "records (None, True): TypeError in crmcore/columnar/table.py _schema_of; fix: validate records where it enters (from_records) with a ValidationError naming it; columns (None, empty dict): TypeError in crmcore/columnar/table.py _schema_of; fix: validate columns where it enters (from_records) with a ValidationError naming it; columns (NaN array, empty array): ValueError in crmcore/columnar/reading.py _mapping; fix: validate columns where it enters (from_records) with a ValidationError naming it; and 5 more"
    ),
    "crmcore.columnar.table.Frame.to_csv": (
        "target (None, True): TypeError in crmcore/columnar/csvio.py write_csv; fix: validate target where it enters (to_csv) with a ValidationError naming it; target (empty str): FileNotFoundError in crmcore/columnar/csvio.py _open; fix: validate target where it enters (to_csv) with a ValidationError naming it; target (huge str): OSError in crmcore/columnar/csvio.py _open; fix: validate target where it enters (to_csv) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.datasets.online_retail.online_retail_csv": (
        "target (1.5 (a float for an int), object): TypeError in crmcore/datasets/online_retail.py online_retail_csv; fix: validate target where it enters (online_retail_csv) with a ValidationError naming it; target (-1, NUL str): ValueError in crmcore/datasets/online_retail.py online_retail_csv; fix: validate target where it enters (online_retail_csv) with a ValidationError naming it; target (empty str): FileNotFoundError in crmcore/datasets/online_retail.py online_retail_csv; fix: validate target where it enters (online_retail_csv) with a ValidationError naming it; and 6 more"
    ),
    "crmcore.datasets.synthetic.generate": (
        "seed (None, 1.5 (a float for an int)): TypeError in crmcore/datasets/synthetic.py generate; fix: validate seed where it enters (generate) with a ValidationError naming it; seed (-1, str array): ValueError in crmcore/datasets/synthetic.py generate; fix: validate seed where it enters (generate) with a ValidationError naming it; end (None, 1.5 (a float for an int)): TypeError in crmcore/datasets/synthetic.py generate; fix: validate end where it enters (generate) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.engines.duckdb.clv_relation": (
        "month (str array): ValueError in crmcore/engines/_clv.py clv_template; fix: validate month where it enters (clv_relation) with a ValidationError naming it; as_of (far-future datetime): OverflowError in crmcore/analytics/clv.py _month_steps; fix: validate as_of where it enters (clv_relation) with a ValidationError naming it"
    ),
    "crmcore.engines.duckdb.cohort_matrix": (
        "as_of (far-future datetime): MemoryError in crmcore/engines/_cohort_sql.py cohort_table; fix: validate as_of where it enters (cohort_matrix) with a ValidationError naming it; period (str array): ValueError in crmcore/engines/_cohort_sql.py cohort_options; fix: validate period where it enters (cohort_matrix) with a ValidationError naming it"
    ),
    "crmcore.engines.duckdb.customer_lifetime_value": (
        "month (str array): ValueError in crmcore/engines/_clv.py clv_template; fix: validate month where it enters (customer_lifetime_value) with a ValidationError naming it; as_of (far-future datetime): OverflowError in crmcore/analytics/clv.py _month_steps; fix: validate as_of where it enters (customer_lifetime_value) with a ValidationError naming it"
    ),
    "crmcore.engines.duckdb.rfm_relation": (
        "ties (str array): ValueError in crmcore/analytics/quantiles.py _check_ties; fix: validate ties where it enters (rfm_relation) with a ValidationError naming it; monetary (str array): ValueError in crmcore/engines/_rfm_sql.py rfm_options; fix: validate monetary where it enters (rfm_relation) with a ValidationError naming it; spend (str array): ValueError in crmcore/engines/_rfm_sql.py rfm_options; fix: validate spend where it enters (rfm_relation) with a ValidationError naming it"
    ),
    "crmcore.engines.duckdb.rfm_scores": (
        "ties (str array): ValueError in crmcore/analytics/quantiles.py _check_ties; fix: validate ties where it enters (rfm_scores) with a ValidationError naming it; monetary (str array): ValueError in crmcore/engines/_rfm_sql.py rfm_options; fix: validate monetary where it enters (rfm_scores) with a ValidationError naming it; spend (str array): ValueError in crmcore/engines/_rfm_sql.py rfm_options; fix: validate spend where it enters (rfm_scores) with a ValidationError naming it"
    ),
    "crmcore.engines.duckdb.segment_members": (
        "rule (None, 1.5 (a float for an int)): AssertionError in crmcore/engines/_queries.py segment_sql; fix: validate rule where it enters (segment_members) with a ValidationError naming it; as_of (None, 1.5 (a float for an int)): AssertionError in crmcore/engines/_queries.py segment_sql; fix: validate as_of where it enters (segment_members) with a ValidationError naming it; customers (None): AssertionError in crmcore/engines/_queries.py segment_sql; fix: validate customers where it enters (segment_members) with a ValidationError naming it; and 4 more"
    ),
    "crmcore.engines.duckdb.segment_relation": (
        "rule (None, 1.5 (a float for an int)): AssertionError in crmcore/engines/_queries.py segment_sql; fix: validate rule where it enters (segment_relation) with a ValidationError naming it; as_of (None, 1.5 (a float for an int)): AssertionError in crmcore/engines/_queries.py segment_sql; fix: validate as_of where it enters (segment_relation) with a ValidationError naming it; customers (None): AssertionError in crmcore/engines/_queries.py segment_sql; fix: validate customers where it enters (segment_relation) with a ValidationError naming it; and 4 more"
    ),
    "crmcore.engines.duckdb.summary_from_transactions": (
        "period (str array): ValueError in crmcore/analytics/btyd.py _period; fix: validate period where it enters (summary_from_transactions) with a ValidationError naming it; time_unit (str array): ValueError in crmcore/analytics/btyd.py _period; fix: validate time_unit where it enters (summary_from_transactions) with a ValidationError naming it"
    ),
    "crmcore.engines.duckdb.summary_relation": (
        "period (str array): ValueError in crmcore/analytics/btyd.py _period; fix: validate period where it enters (summary_relation) with a ValidationError naming it; time_unit (str array): ValueError in crmcore/analytics/btyd.py _period; fix: validate time_unit where it enters (summary_relation) with a ValidationError naming it"
    ),
    "crmcore.feedback.calendar.BusinessCalendar": (
        "timezone (huge str): OSError in crmcore/feedback/calendar.py _timezone; fix: validate timezone where it enters (BusinessCalendar) with a ValidationError naming it"
    ),
    "crmcore.feedback.calendar.BusinessCalendar.add": (
        "start (far-future datetime): OverflowError in crmcore/feedback/calendar.py _windows; fix: validate start where it enters (add) with a ValidationError naming it"
    ),
    "crmcore.feedback.calendar.BusinessCalendar.always": (
        "timezone (huge str): OSError in crmcore/feedback/calendar.py _timezone; fix: validate timezone where it enters (always) with a ValidationError naming it"
    ),
    "crmcore.feedback.calendar.BusinessCalendar.business_time": (
        "end (far-future datetime): took over 10.0s in  ; fix: validate end where it enters (business_time) with a ValidationError naming it"
    ),
    "crmcore.feedback.calendar.BusinessCalendar.is_open": (
        "at (far-future datetime): OverflowError in crmcore/feedback/calendar.py _windows; fix: validate at where it enters (is_open) with a ValidationError naming it"
    ),
    "crmcore.feedback.calendar.BusinessCalendar.next_open": (
        "at (far-future datetime): OverflowError in crmcore/feedback/calendar.py _windows; fix: validate at where it enters (next_open) with a ValidationError naming it"
    ),
    "crmcore.feedback.case_machine.transitions_on": (
        "source (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_on; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; trigger (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_on; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup"
    ),
    "crmcore.feedback.case_metrics.CaseColumns": (
        "ids (None, True): TypeError in crmcore/feedback/case_metrics.py __attrs_post_init__; fix: validate ids where it enters (CaseColumns) with a ValidationError naming it; opened (None, True): AttributeError in crmcore/feedback/case_metrics.py __attrs_post_init__; fix: validate opened where it enters (CaseColumns) with a ValidationError naming it; first_response (None, True): AttributeError in crmcore/feedback/case_metrics.py __attrs_post_init__; fix: validate first_response where it enters (CaseColumns) with a ValidationError naming it; and 5 more"
    ),
    "crmcore.feedback.case_metrics.sla_verdicts": (
        "cases (None, True): TypeError in crmcore/feedback/case_metrics.py sla_verdicts; fix: validate cases where it enters (sla_verdicts) with a ValidationError naming it"
    ),
    "crmcore.feedback.durations.DurationStats.as_timedelta": (
        "which (None, True): TypeError in crmcore/feedback/durations.py as_timedelta; fix: validate which where it enters (as_timedelta) with a ValidationError naming it; which (empty str, huge str): AttributeError in crmcore/feedback/durations.py as_timedelta; fix: validate which where it enters (as_timedelta) with a ValidationError naming it"
    ),
    "crmcore.feedback.durations.durations": (
        "name (NaN array, empty array): ValueError in crmcore/feedback/durations.py duration_rows; fix: validate name where it enters (durations) with a ValidationError naming it"
    ),
    "crmcore.feedback.feedback.FeedbackLog": (
        "ids (None, True): TypeError in crmcore/feedback/feedback.py __attrs_post_init__; fix: validate ids where it enters (FeedbackLog) with a ValidationError naming it; channel (2**63, inf): OverflowError in crmcore/feedback/feedback.py _column; fix: validate channel where it enters (FeedbackLog) with a ValidationError naming it; channel (NaN array): RuntimeWarning in crmcore/feedback/feedback.py _column; fix: validate channel where it enters (FeedbackLog) with a ValidationError naming it; and 15 more"
    ),
    "crmcore.feedback.feedback.FeedbackLog.from_feedback": (
        "items (None, True): TypeError in crmcore/feedback/feedback.py from_feedback; fix: validate items where it enters (from_feedback) with a ValidationError naming it"
    ),
    "crmcore.feedback.feedback_metrics.feedback_trend": (
        "period (NaN array, empty array): ValueError in crmcore/feedback/breakdowns.py trend; fix: validate period where it enters (feedback_trend) with a ValidationError naming it"
    ),
    "crmcore.feedback.grouping.period_codes": (
        "period (NaN array, empty array): ValueError in crmcore/feedback/grouping.py period_codes; fix: validate period where it enters (period_codes) with a ValidationError naming it"
    ),
    "crmcore.feedback.needs.NeedsBacklog.row": (
        "category (NaN array, empty array): ValueError in crmcore/feedback/needs.py row; fix: validate category where it enters (row) with a ValidationError naming it"
    ),
    "crmcore.feedback.needs.UrgencyWeights.of": (
        "feedback (None, True): AttributeError in crmcore/feedback/needs.py of; fix: validate feedback where it enters (of) with a ValidationError naming it"
    ),
    "crmcore.feedback.themes.ThemeReport.row": (
        "theme (NaN array, empty array): ValueError in crmcore/feedback/themes.py row; fix: validate theme where it enters (row) with a ValidationError naming it"
    ),
    "crmcore.feedback.themes.theme_report": (
        "period (NaN array, empty array): ValueError in crmcore/feedback/themes.py theme_report; fix: validate period where it enters (theme_report) with a ValidationError naming it; rank_by (NaN array, empty array): ValueError in crmcore/feedback/themes.py theme_report; fix: validate rank_by where it enters (theme_report) with a ValidationError naming it"
    ),
    "crmcore.funnel._report.ConversionTime.timedelta": (
        "stat (None, True): TypeError in crmcore/funnel/_report.py timedelta; fix: validate stat where it enters (timedelta) with a ValidationError naming it; stat (empty str, huge str): AttributeError in crmcore/funnel/_report.py timedelta; fix: validate stat where it enters (timedelta) with a ValidationError naming it"
    ),
    "crmcore.funnel.analytics.funnel_report_from_positions": (
        "positions (None, True): TypeError in crmcore/funnel/analytics.py funnel_report_from_positions; fix: validate positions where it enters (funnel_report_from_positions) with a ValidationError naming it; positions (bytes, list of None): AttributeError in crmcore/funnel/analytics.py funnel_report_from_positions; fix: validate positions where it enters (funnel_report_from_positions) with a ValidationError naming it; window (None, timedelta max): TypeError in crmcore/funnel/analytics.py funnel_report_from_positions; fix: validate window where it enters (funnel_report_from_positions) with a ValidationError naming it"
    ),
    "crmcore.funnel.position.FunnelPolicy.check_advance": (
        "current (None, bytes): TypeError in crmcore/funnel/position.py check_advance; fix: validate current where it enters (check_advance) with a ValidationError naming it; current (1.5 (a float for an int), 2**63): AttributeError in crmcore/funnel/position.py check_advance; fix: validate current where it enters (check_advance) with a ValidationError naming it; current (Decimal NaN): InvalidOperation in crmcore/funnel/position.py check_advance; fix: validate current where it enters (check_advance) with a ValidationError naming it; and 7 more"
    ),
    "crmcore.funnel.position.FunnelPolicy.check_regress": (
        "current (None, bytes): TypeError in crmcore/funnel/position.py check_regress; fix: validate current where it enters (check_regress) with a ValidationError naming it; current (-1): AttributeError in crmcore/funnel/position.py check_regress; fix: validate current where it enters (check_regress) with a ValidationError naming it; current (Decimal NaN): InvalidOperation in crmcore/funnel/position.py check_regress; fix: validate current where it enters (check_regress) with a ValidationError naming it; and 7 more"
    ),
    "crmcore.funnel.position.FunnelPolicy.check_start": (
        "target (None, bytes): TypeError in crmcore/funnel/position.py check_start; fix: validate target where it enters (check_start) with a ValidationError naming it; target (Decimal NaN): InvalidOperation in crmcore/funnel/position.py check_start; fix: validate target where it enters (check_start) with a ValidationError naming it; target (NaN array, empty array): ValueError in crmcore/funnel/position.py check_start; fix: validate target where it enters (check_start) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.kernel.events.Outcome": (
        "events (None, True): TypeError in crmcore/kernel/events.py _events; fix: Outcome(events=...) and Outcome.collect: validators.instances_of(events, DomainEvent, 'events')"
    ),
    "crmcore.kernel.events.Outcome.collect": (
        "events (None, True): TypeError in crmcore/kernel/events.py collect; fix: Outcome(events=...) and Outcome.collect: validators.instances_of(events, DomainEvent, 'events')"
    ),
    "crmcore.kernel.frozen.FrozenDict": (
        "data (None, True): TypeError in crmcore/kernel/frozen.py __init__; fix: FrozenDict.__init__: accept a Mapping or an iterable of pairs, else ValidationError('data', ...); FrozenDict.set/get: an unhashable key is a ValidationError; data (huge str, NUL str): ValueError in crmcore/kernel/frozen.py __init__; fix: FrozenDict.__init__: accept a Mapping or an iterable of pairs, else ValidationError('data', ...); FrozenDict.set/get: an unhashable key is a ValidationError"
    ),
    "crmcore.kernel.frozen.FrozenDict.set": (
        "key (empty list, list of None): TypeError in crmcore/kernel/frozen.py set; fix: FrozenDict.__init__: accept a Mapping or an iterable of pairs, else ValidationError('data', ...); FrozenDict.set/get: an unhashable key is a ValidationError"
    ),
    "crmcore.lifecycle.evidence.Evidence": (
        "reasons (None, True): TypeError in crmcore/lifecycle/evidence.py _reasons; fix: validate reasons where it enters (Evidence) with a ValidationError naming it"
    ),
    "crmcore.lifecycle.evidence.reasons_from_bits": (
        "bits (None, empty list): TypeError in crmcore/lifecycle/evidence.py reasons_from_bits; fix: validate bits where it enters (reasons_from_bits) with a ValidationError naming it; bits (bytes, nan): ValueError in crmcore/lifecycle/evidence.py reasons_from_bits; fix: validate bits where it enters (reasons_from_bits) with a ValidationError naming it; bits (inf, Decimal inf): OverflowError in crmcore/lifecycle/evidence.py reasons_from_bits; fix: validate bits where it enters (reasons_from_bits) with a ValidationError naming it"
    ),
    "crmcore.lifecycle.policy.classify": (
        "purchases (None, True): TypeError in crmcore/lifecycle/policy.py _orders; fix: validate purchases where it enters (classify) with a ValidationError naming it"
    ),
    "crmcore.lifecycle.policy_batch.BatchClassification.classification": (
        "row (lone surrogate): UnicodeEncodeError in crmcore/lifecycle/policy_batch.py index_of; fix: validate row where it enters (classification) with a ValidationError naming it"
    ),
    "crmcore.lifecycle.policy_batch.BatchClassification.has_reason": (
        "reason (None, True): ValueError in crmcore/lifecycle/policy_batch.py has_reason; fix: validate reason where it enters (has_reason) with a ValidationError naming it"
    ),
    "crmcore.lifecycle.policy_batch.BatchClassification.index_of": (
        "customer (empty list, NaN array): ValueError in crmcore/lifecycle/policy_batch.py index_of; fix: validate customer where it enters (index_of) with a ValidationError naming it; customer (lone surrogate): UnicodeEncodeError in crmcore/lifecycle/policy_batch.py index_of; fix: validate customer where it enters (index_of) with a ValidationError naming it"
    ),
    "crmcore.lifecycle.policy_batch.BatchClassification.state_of": (
        "row (lone surrogate): UnicodeEncodeError in crmcore/lifecycle/policy_batch.py index_of; fix: validate row where it enters (state_of) with a ValidationError naming it"
    ),
    "crmcore.lifecycle.record.Lifecycle": (
        "history (None, True): TypeError in crmcore/lifecycle/record.py _changes; fix: validate history where it enters (Lifecycle) with a ValidationError naming it"
    ),
    "crmcore.lifecycle.record.replay": (
        "purchases (None, True): TypeError in crmcore/lifecycle/record.py replay; fix: validate purchases where it enters (replay) with a ValidationError naming it; checkpoints (None, True): TypeError in crmcore/lifecycle/record.py replay; fix: validate checkpoints where it enters (replay) with a ValidationError naming it; record (True, 1.5 (a float for an int)): AttributeError in crmcore/lifecycle/record.py replay; fix: validate record where it enters (replay) with a ValidationError naming it"
    ),
    "crmcore.lifecycle.transitions.Guard.allows": (
        "evidence (None, True): AttributeError in crmcore/lifecycle/transitions.py allows; fix: validate evidence where it enters (allows) with a ValidationError naming it"
    ),
    "crmcore.lifecycle.transitions.Guard.explain": (
        "evidence (None, True): AttributeError in crmcore/lifecycle/transitions.py explain; fix: validate evidence where it enters (explain) with a ValidationError naming it"
    ),
    "crmcore.lifecycle.transitions.Transition.allows": (
        "evidence (None, True): AttributeError in crmcore/lifecycle/transitions.py allows; fix: validate evidence where it enters (allows) with a ValidationError naming it"
    ),
    "crmcore.lifecycle.transitions.transition_for": (
        "source (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_between; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; target (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_between; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup"
    ),
    "crmcore.lifecycle.transitions.transition_on": (
        "source (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_on; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; trigger (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_on; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup"
    ),
    "crmcore.lifecycle.transitions_batch.BatchTransitions": (
        "size (None, True): AttributeError in crmcore/kernel/arrays.py read_only; fix: kernel.arrays.read_only: np.asarray the value first, or have the report constructors validate their arrays (ValidationError naming the column); positions (None, True): AttributeError in crmcore/kernel/arrays.py read_only; fix: kernel.arrays.read_only: np.asarray the value first, or have the report constructors validate their arrays (ValidationError naming the column); from_codes (None, True): AttributeError in crmcore/kernel/arrays.py read_only; fix: kernel.arrays.read_only: np.asarray the value first, or have the report constructors validate their arrays (ValidationError naming the column); and 3 more"
    ),
    "crmcore.lifecycle.transitions_batch.BatchTransitions.of_kind": (
        "kind (None, True): ValueError in crmcore/lifecycle/transitions_batch.py of_kind; fix: validate kind where it enters (of_kind) with a ValidationError naming it"
    ),
    "crmcore.loyalty.entries.Lot.spendable": (
        "as_of (None, True): TypeError in crmcore/loyalty/entries.py spendable; fix: validate as_of where it enters (spendable) with a ValidationError naming it; as_of (empty array): ValueError in crmcore/loyalty/entries.py spendable; fix: validate as_of where it enters (spendable) with a ValidationError naming it"
    ),
    "crmcore.loyalty.expiry.add_months": (
        "day (None, True): TypeError in crmcore/loyalty/expiry.py add_months; fix: validate day where it enters (add_months) with a ValidationError naming it; day (empty list, list of None): TypeError in ? ?; fix: validate day where it enters (add_months) with a ValidationError naming it; day (far-future datetime, year-10000 local datetime): ValueError in crmcore/loyalty/expiry.py add_months; fix: validate day where it enters (add_months) with a ValidationError naming it; and 4 more"
    ),
    "crmcore.loyalty.expiry.program_zone": (
        "name (empty list, list of None): TypeError in ? ?; fix: validate name where it enters (program_zone) with a ValidationError naming it; name (huge str): OSError in crmcore/loyalty/expiry.py program_zone; fix: validate name where it enters (program_zone) with a ValidationError naming it"
    ),
    "crmcore.loyalty.ledger.LoyaltyAccount.balance": (
        "program (True, 1.5 (a float for an int)): AttributeError in crmcore/loyalty/_posting.py balance_now; fix: validate program where it enters (balance) with a ValidationError naming it"
    ),
    "crmcore.loyalty.ledger.LoyaltyAccount.from_entries": (
        "entries (None, True): TypeError in crmcore/loyalty/ledger.py from_entries; fix: validate entries where it enters (from_entries) with a ValidationError naming it"
    ),
    "crmcore.loyalty.ledger.replay": (
        "entries (None, True): TypeError in crmcore/loyalty/_journal.py replay_state; fix: validate entries where it enters (replay) with a ValidationError naming it"
    ),
    "crmcore.loyalty.ledger_batch.expire_all": (
        "program (None, True): AttributeError in crmcore/loyalty/ledger_batch.py expire_all; fix: validate program where it enters (expire_all) with a ValidationError naming it; accounts (None, True): TypeError in crmcore/loyalty/ledger_batch.py expire_all; fix: validate accounts where it enters (expire_all) with a ValidationError naming it; columns (True, 1.5 (a float for an int)): AttributeError in crmcore/loyalty/ledger_batch.py expire_all; fix: validate columns where it enters (expire_all) with a ValidationError naming it"
    ),
    "crmcore.loyalty.ledger_batch.ledger_columns": (
        "accounts (None, True): TypeError in crmcore/loyalty/ledger_batch.py ledger_columns; fix: validate accounts where it enters (ledger_columns) with a ValidationError naming it"
    ),
    "crmcore.loyalty.ledger_batch.liability_report": (
        "program (None, True): AttributeError in crmcore/loyalty/ledger_batch.py lot_columns; fix: validate program where it enters (liability_report) with a ValidationError naming it; accounts (None, True): TypeError in crmcore/loyalty/ledger_batch.py lot_columns; fix: validate accounts where it enters (liability_report) with a ValidationError naming it; expected_redemption (Decimal NaN, empty str): InvalidOperation in crmcore/loyalty/ledger_batch.py _rate; fix: validate expected_redemption where it enters (liability_report) with a ValidationError naming it"
    ),
    "crmcore.loyalty.ledger_batch.lot_columns": (
        "program (None, True): AttributeError in crmcore/loyalty/ledger_batch.py lot_columns; fix: validate program where it enters (lot_columns) with a ValidationError naming it; accounts (None, True): TypeError in crmcore/loyalty/ledger_batch.py lot_columns; fix: validate accounts where it enters (lot_columns) with a ValidationError naming it"
    ),
    "crmcore.loyalty.program.LoyaltyProgram": (
        "timezone (huge str): OSError in crmcore/loyalty/expiry.py program_zone; fix: validate timezone where it enters (LoyaltyProgram) with a ValidationError naming it"
    ),
    "crmcore.loyalty.program.LoyaltyProgram.value_of": (
        "points (None, True): TypeError in crmcore/loyalty/program.py value_of; fix: validate points where it enters (value_of) with a ValidationError naming it"
    ),
    "crmcore.loyalty.referrals.ReferralCode.issue": (
        "seed (lone surrogate): UnicodeEncodeError in crmcore/loyalty/referrals.py generate_code; fix: validate seed where it enters (issue) with a ValidationError naming it"
    ),
    "crmcore.loyalty.referrals.generate_code": (
        "seed (lone surrogate): UnicodeEncodeError in crmcore/loyalty/referrals.py generate_code; fix: validate seed where it enters (generate_code) with a ValidationError naming it"
    ),
    "crmcore.loyalty.referrals.reward_key": (
        "role (None, True): ValueError in crmcore/loyalty/referrals.py reward_key; fix: validate role where it enters (reward_key) with a ValidationError naming it"
    ),
    "crmcore.loyalty.tier_policy.TierPolicy.index": (
        "tier (NaN array, empty array): ValueError in crmcore/loyalty/tier_policy.py index; fix: validate tier where it enters (index) with a ValidationError naming it"
    ),
    "crmcore.loyalty.tier_policy.TierPolicy.multiplier": (
        "tier (NaN array, empty array): ValueError in crmcore/loyalty/tier_policy.py index; fix: validate tier where it enters (multiplier) with a ValidationError naming it"
    ),
    "crmcore.loyalty.tier_policy.TierPolicy.supported": (
        "points (None, bytes): TypeError in crmcore/loyalty/tier_policy.py supported_index; fix: validate points where it enters (supported) with a ValidationError naming it; points (Decimal NaN): InvalidOperation in crmcore/loyalty/tier_policy.py supported_index; fix: validate points where it enters (supported) with a ValidationError naming it; points (NaN array, empty array): ValueError in crmcore/loyalty/tier_policy.py supported_index; fix: validate points where it enters (supported) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.loyalty.tier_policy.TierPolicy.supported_index": (
        "points (None, bytes): TypeError in crmcore/loyalty/tier_policy.py supported_index; fix: validate points where it enters (supported_index) with a ValidationError naming it; points (Decimal NaN): InvalidOperation in crmcore/loyalty/tier_policy.py supported_index; fix: validate points where it enters (supported_index) with a ValidationError naming it; points (NaN array, empty array): ValueError in crmcore/loyalty/tier_policy.py supported_index; fix: validate points where it enters (supported_index) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.loyalty.tiers.TierStatus.multiplier": (
        "policy (None, True): AttributeError in crmcore/loyalty/tiers.py multiplier; fix: validate policy where it enters (multiplier) with a ValidationError naming it"
    ),
    "crmcore.loyalty.tiers.TierStatus.new": (
        "policy (None, True): AttributeError in crmcore/loyalty/tiers.py new; fix: validate policy where it enters (new) with a ValidationError naming it"
    ),
    "crmcore.loyalty.tiers.TierStatus.progress": (
        "facts (None, True): TypeError in crmcore/loyalty/tiers.py progress; fix: validate facts where it enters (progress) with a ValidationError naming it"
    ),
    "crmcore.loyalty.tiers_batch.BatchTiers": (
        "policy (None, True): AttributeError in crmcore/loyalty/tiers_batch.py __init__; fix: validate policy where it enters (BatchTiers) with a ValidationError naming it; as_of (None, True): AttributeError in crmcore/loyalty/tiers_batch.py __init__; fix: validate as_of where it enters (BatchTiers) with a ValidationError naming it; customer_ids (None, NaN array): AttributeError in crmcore/loyalty/tiers_batch.py __init__; fix: validate customer_ids where it enters (BatchTiers) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.loyalty.tiers_batch.BatchTiers.tier_of": (
        "row (lone surrogate): UnicodeEncodeError in crmcore/loyalty/tiers_batch.py _row; fix: validate row where it enters (tier_of) with a ValidationError naming it"
    ),
    "crmcore.loyalty.tiers_batch.evaluate_log": (
        "policy (None, True): AttributeError in crmcore/loyalty/tiers_batch.py evaluate_log; fix: validate policy where it enters (evaluate_log) with a ValidationError naming it"
    ),
    "crmcore.marketing.association_report.AssociationRules": (
        "items (None, True): AttributeError in crmcore/kernel/arrays.py read_only; fix: kernel.arrays.read_only: np.asarray the value first, or have the report constructors validate their arrays (ValidationError naming the column); baskets (None, True): AttributeError in crmcore/kernel/arrays.py read_only; fix: kernel.arrays.read_only: np.asarray the value first, or have the report constructors validate their arrays (ValidationError naming the column); antecedents (None, True): AttributeError in crmcore/kernel/arrays.py read_only; fix: kernel.arrays.read_only: np.asarray the value first, or have the report constructors validate their arrays (ValidationError naming the column); and 5 more"
    ),
    "crmcore.marketing.association_report.AssociationRules.build": (
        "items (None, True): TypeError in crmcore/marketing/association_report.py build; fix: validate items where it enters (build) with a ValidationError naming it; baskets (None, True): TypeError in crmcore/marketing/association_report.py build; fix: validate baskets where it enters (build) with a ValidationError naming it; antecedents (None, True): TypeError in crmcore/marketing/association_report.py build; fix: validate antecedents where it enters (build) with a ValidationError naming it; and 6 more"
    ),
    "crmcore.marketing.association_report.AssociationRules.top": (
        "by (NaN array, empty array): ValueError in crmcore/marketing/association_report.py top; fix: validate by where it enters (top) with a ValidationError naming it"
    ),
    "crmcore.marketing.association_report.FrequentItemsets": (
        "items (None, True): AttributeError in crmcore/kernel/arrays.py read_only; fix: kernel.arrays.read_only: np.asarray the value first, or have the report constructors validate their arrays (ValidationError naming the column); baskets (None, True): AttributeError in crmcore/kernel/arrays.py read_only; fix: kernel.arrays.read_only: np.asarray the value first, or have the report constructors validate their arrays (ValidationError naming the column); itemsets (None, True): AttributeError in crmcore/kernel/arrays.py read_only; fix: kernel.arrays.read_only: np.asarray the value first, or have the report constructors validate their arrays (ValidationError naming the column); and 1 more"
    ),
    "crmcore.marketing.association_report.FrequentItemsets.build": (
        "items (None, True): TypeError in crmcore/marketing/association_report.py build; fix: validate items where it enters (build) with a ValidationError naming it; baskets (None, True): TypeError in crmcore/marketing/association_report.py build; fix: validate baskets where it enters (build) with a ValidationError naming it; sets (None, True): TypeError in crmcore/marketing/association_report.py build; fix: validate sets where it enters (build) with a ValidationError naming it; and 3 more"
    ),
    "crmcore.marketing.association_rules.association_rules": (
        "max_size (NaN array, empty array): ValueError in crmcore/marketing/association_rules.py _max_size; fix: validate max_size where it enters (association_rules) with a ValidationError naming it"
    ),
    "crmcore.marketing.association_rules.frequent_itemsets": (
        "max_size (NaN array, empty array): ValueError in crmcore/marketing/association_rules.py _max_size; fix: validate max_size where it enters (frequent_itemsets) with a ValidationError naming it"
    ),
    "crmcore.marketing.baskets.Baskets": (
        "offsets (None, list of None): TypeError in crmcore/marketing/baskets.py __init__; fix: validate offsets where it enters (Baskets) with a ValidationError naming it; offsets (True, 1.5 (a float for an int)): ValueError in crmcore/marketing/baskets.py __init__; fix: validate offsets where it enters (Baskets) with a ValidationError naming it; offsets (2**63, inf): OverflowError in crmcore/marketing/baskets.py __init__; fix: validate offsets where it enters (Baskets) with a ValidationError naming it; and 5 more"
    ),
    "crmcore.marketing.baskets.Baskets.code_of": (
        "item (None, True): TypeError in crmcore/marketing/baskets.py code_of; fix: validate item where it enters (code_of) with a ValidationError naming it; item (Decimal NaN): InvalidOperation in crmcore/marketing/baskets.py code_of; fix: validate item where it enters (code_of) with a ValidationError naming it"
    ),
    "crmcore.marketing.baskets.Baskets.from_codes": (
        "basket_of_row (None, list of None): TypeError in crmcore/marketing/baskets.py from_codes; fix: validate basket_of_row where it enters (from_codes) with a ValidationError naming it; basket_of_row (True, 1.5 (a float for an int)): ValueError in crmcore/marketing/baskets.py from_codes; fix: validate basket_of_row where it enters (from_codes) with a ValidationError naming it; basket_of_row (2**63, inf): OverflowError in crmcore/marketing/baskets.py from_codes; fix: validate basket_of_row where it enters (from_codes) with a ValidationError naming it; and 5 more"
    ),
    "crmcore.marketing.baskets.Baskets.from_lists": (
        "baskets (None, True): TypeError in crmcore/marketing/baskets.py from_lists; fix: validate baskets where it enters (from_lists) with a ValidationError naming it; customers (True, 1.5 (a float for an int)): TypeError in crmcore/marketing/baskets.py from_lists; fix: validate customers where it enters (from_lists) with a ValidationError naming it; customers (lone surrogate): TypeError in crmcore/marketing/baskets.py _strings; fix: validate customers where it enters (from_lists) with a ValidationError naming it"
    ),
    "crmcore.marketing.baskets.Baskets.from_transactions": (
        "item (NaN array, empty array): ValueError in crmcore/marketing/baskets.py from_transactions; fix: validate item where it enters (from_transactions) with a ValidationError naming it"
    ),
    "crmcore.marketing.campaign_audience.CampaignAudience.group_of": (
        "customer_id (empty list, NaN array): ValueError in crmcore/marketing/campaign_audience.py group_of; fix: validate customer_id where it enters (group_of) with a ValidationError naming it; customer_id (lone surrogate): TypeError in crmcore/marketing/campaign_audience.py group_of; fix: validate customer_id where it enters (group_of) with a ValidationError naming it"
    ),
    "crmcore.marketing.campaign_audience.CampaignAudience.members": (
        "group (NaN array, empty array): ValueError in crmcore/marketing/campaign_audience.py _code; fix: validate group where it enters (members) with a ValidationError naming it"
    ),
    "crmcore.marketing.campaign_results.CampaignResults.group": (
        "name (NaN array, empty array): ValueError in crmcore/marketing/campaign_results.py group; fix: validate name where it enters (group) with a ValidationError naming it"
    ),
    "crmcore.marketing.campaign_results.attribute_touches": (
        "touch_customers (None, True): TypeError in crmcore/marketing/campaign_results.py attribute_touches; fix: validate touch_customers where it enters (attribute_touches) with a ValidationError naming it; touch_customers (bytes, nan): ValueError in crmcore/marketing/campaign_results.py attribute_touches; fix: validate touch_customers where it enters (attribute_touches) with a ValidationError naming it; touch_customers (2**63, inf): OverflowError in crmcore/marketing/campaign_results.py attribute_touches; fix: validate touch_customers where it enters (attribute_touches) with a ValidationError naming it; and 6 more"
    ),
    "crmcore.marketing.campaigns.Attribution": (
        "model (None, True): ValueError in ? ?; fix: validate model where it enters (Attribution) with a ValidationError naming it"
    ),
    "crmcore.marketing.campaigns.Campaign": (
        "status (None, True): ValueError in ? ?; fix: validate status where it enters (Campaign) with a ValidationError naming it"
    ),
    "crmcore.marketing.care.CarePlan": (
        "leap_day (None, True): ValueError in ? ?; fix: validate leap_day where it enters (CarePlan) with a ValidationError naming it; default_time_zone (huge str): OSError in crmcore/marketing/local_time.py zone; fix: validate default_time_zone where it enters (CarePlan) with a ValidationError naming it"
    ),
    "crmcore.marketing.care.care_triggers": (
        "start (far-future datetime): OverflowError in crmcore/marketing/care.py check_window; fix: validate start where it enters (care_triggers) with a ValidationError naming it"
    ),
    "crmcore.marketing.care.occasion_date": (
        "original (None, True): AttributeError in crmcore/marketing/care.py occasion_date; fix: validate original where it enters (occasion_date) with a ValidationError naming it; year (None, 1.5 (a float for an int)): TypeError in crmcore/marketing/care.py occasion_date; fix: validate year where it enters (occasion_date) with a ValidationError naming it; year (-1): ValueError in crmcore/marketing/care.py occasion_date; fix: validate year where it enters (occasion_date) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.marketing.care_batch.CareSchedule": (
        "start (None, True): ValueError in crmcore/marketing/care_batch.py __init__; fix: validate start where it enters (CareSchedule) with a ValidationError naming it; holiday_codes (None, True): ValueError in crmcore/marketing/care_batch.py __init__; fix: validate holiday_codes where it enters (CareSchedule) with a ValidationError naming it; customer_ids (None, True): TypeError in crmcore/marketing/care_batch.py __init__; fix: validate customer_ids where it enters (CareSchedule) with a ValidationError naming it; and 9 more"
    ),
    "crmcore.marketing.care_batch.CareSchedule.trigger": (
        "i (None, True): TypeError in crmcore/marketing/care_batch.py trigger; fix: validate i where it enters (trigger) with a ValidationError naming it; i (1.5 (a float for an int), bytes): IndexError in crmcore/marketing/care_batch.py trigger; fix: validate i where it enters (trigger) with a ValidationError naming it; i (2**63): OverflowError in crmcore/marketing/care_batch.py trigger; fix: validate i where it enters (trigger) with a ValidationError naming it"
    ),
    "crmcore.marketing.care_batch.care_due": (
        "start (far-future datetime): OverflowError in crmcore/marketing/care.py check_window; fix: validate start where it enters (care_due) with a ValidationError naming it"
    ),
    "crmcore.marketing.coupon_codes.check_character": (
        "body (None, True): AttributeError in crmcore/marketing/coupon_codes.py check_character; fix: validate body where it enters (check_character) with a ValidationError naming it; body (bytes): TypeError in crmcore/marketing/coupon_codes.py <listcomp>; fix: validate body where it enters (check_character) with a ValidationError naming it"
    ),
    "crmcore.marketing.coupon_codes.generate_code_array": (
        "seed (lone surrogate): UnicodeEncodeError in crmcore/marketing/coupon_codes.py _round_keys; fix: validate seed where it enters (generate_code_array) with a ValidationError naming it"
    ),
    "crmcore.marketing.coupon_codes.generate_codes": (
        "seed (lone surrogate): UnicodeEncodeError in crmcore/marketing/coupon_codes.py _round_keys; fix: validate seed where it enters (generate_codes) with a ValidationError naming it"
    ),
    "crmcore.marketing.coupon_codes.luhn_mod_n_valid": (
        "code (None, True): AttributeError in crmcore/marketing/coupon_codes.py luhn_mod_n_valid; fix: validate code where it enters (luhn_mod_n_valid) with a ValidationError naming it; code (bytes): TypeError in crmcore/marketing/coupon_codes.py <genexpr>; fix: validate code where it enters (luhn_mod_n_valid) with a ValidationError naming it"
    ),
    "crmcore.marketing.coupon_wallet.Coupon": (
        "status (None, True): ValueError in ? ?; fix: validate status where it enters (Coupon) with a ValidationError naming it"
    ),
    "crmcore.marketing.coupon_wallet.Coupon.with_uses": (
        "trigger (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_on; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; uses (None, bytes): TypeError in crmcore/marketing/coupon_wallet.py <lambda>; fix: validate uses where it enters (with_uses) with a ValidationError naming it; uses (Decimal NaN): InvalidOperation in crmcore/marketing/coupon_wallet.py <lambda>; fix: validate uses where it enters (with_uses) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.marketing.coupon_wallet.CouponPool.remaining_budget": (
        "definition (None, True): AttributeError in crmcore/marketing/coupon_wallet.py remaining_budget; fix: validate definition where it enters (remaining_budget) with a ValidationError naming it"
    ),
    "crmcore.marketing.coupons.Discount": (
        "kind (None, True): ValueError in ? ?; fix: validate kind where it enters (Discount) with a ValidationError naming it"
    ),
    "crmcore.marketing.coupons.price_with_coupons": (
        "definitions (None, True): TypeError in crmcore/marketing/coupons.py price_with_coupons; fix: validate definitions where it enters (price_with_coupons) with a ValidationError naming it"
    ),
    "crmcore.marketing.customer_facts.CustomerFacts": (
        "time_zone (huge str): OSError in crmcore/marketing/local_time.py zone; fix: validate time_zone where it enters (CustomerFacts) with a ValidationError naming it"
    ),
    "crmcore.marketing.customer_facts.CustomerFacts.from_customer": (
        "default_zone (huge str): OSError in crmcore/marketing/local_time.py zone; fix: validate default_zone where it enters (from_customer) with a ValidationError naming it"
    ),
    "crmcore.marketing.dry_run.dry_run": (
        "start (far-future datetime): OverflowError in crmcore/marketing/dry_run.py dry_run; fix: validate start where it enters (dry_run) with a ValidationError naming it; churn_risk (bytes, empty str): ValueError in crmcore/marketing/dry_run.py _risk; fix: validate churn_risk where it enters (dry_run) with a ValidationError naming it; churn_risk (empty dict, dict): TypeError in crmcore/marketing/dry_run.py _risk; fix: validate churn_risk where it enters (dry_run) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.marketing.engine.advance": (
        "enrolments (None, True): TypeError in crmcore/marketing/_engine_state.py load; fix: validate enrolments where it enters (advance) with a ValidationError naming it; customers (None, True): TypeError in crmcore/marketing/engine.py _facts; fix: validate customers where it enters (advance) with a ValidationError naming it"
    ),
    "crmcore.marketing.enrolments.Enrolment.ran": (
        "next_step (NaN array, empty array): ValueError in crmcore/marketing/enrolments.py ran; fix: validate next_step where it enters (ran) with a ValidationError naming it"
    ),
    "crmcore.marketing.enrolments.Enrolment.resume": (
        "next_step (NaN array, empty array): ValueError in crmcore/marketing/enrolments.py resume; fix: validate next_step where it enters (resume) with a ValidationError naming it"
    ),
    "crmcore.marketing.experiments.Split.group_codes": (
        "numbers (bytes, empty str): ValueError in crmcore/marketing/experiments.py group_codes; fix: validate numbers where it enters (group_codes) with a ValidationError naming it; numbers (empty dict, dict): TypeError in crmcore/marketing/experiments.py group_codes; fix: validate numbers where it enters (group_codes) with a ValidationError naming it"
    ),
    "crmcore.marketing.experiments.Split.group_of": (
        "customer_id (lone surrogate): UnicodeEncodeError in crmcore/marketing/experiments.py assignment_hash; fix: validate customer_id where it enters (group_of) with a ValidationError naming it"
    ),
    "crmcore.marketing.experiments.assignment_hash": (
        "key (lone surrogate): UnicodeEncodeError in crmcore/marketing/experiments.py assignment_hash; fix: validate key where it enters (assignment_hash) with a ValidationError naming it"
    ),
    "crmcore.marketing.experiments.assignment_number": (
        "key (lone surrogate): UnicodeEncodeError in crmcore/marketing/experiments.py assignment_hash; fix: validate key where it enters (assignment_number) with a ValidationError naming it"
    ),
    "crmcore.marketing.guardrails.SendCounts.add": (
        "limit (None, True): AttributeError in crmcore/marketing/guardrails.py add; fix: validate limit where it enters (add) with a ValidationError naming it"
    ),
    "crmcore.marketing.guardrails.SendCounts.count": (
        "limit (None, True): AttributeError in crmcore/marketing/guardrails.py count; fix: validate limit where it enters (count) with a ValidationError naming it"
    ),
    "crmcore.marketing.guardrails.SendCounts.pruned": (
        "limits (None, True): TypeError in crmcore/marketing/guardrails.py pruned; fix: validate limits where it enters (pruned) with a ValidationError naming it; limits (bytes, list of None): AttributeError in crmcore/marketing/guardrails.py <dictcomp>; fix: validate limits where it enters (pruned) with a ValidationError naming it"
    ),
    "crmcore.marketing.guardrails.check_send": (
        "guardrails (None, True): AttributeError in crmcore/marketing/guardrails.py check_send; fix: validate guardrails where it enters (check_send) with a ValidationError naming it"
    ),
    "crmcore.marketing.next_best_offer.NextBestOffers": (
        "source (None, True): AttributeError in crmcore/kernel/arrays.py read_only; fix: kernel.arrays.read_only: np.asarray the value first, or have the report constructors validate their arrays (ValidationError naming the column); customer_ids (None, True): AttributeError in crmcore/kernel/arrays.py read_only; fix: kernel.arrays.read_only: np.asarray the value first, or have the report constructors validate their arrays (ValidationError naming the column); ranks (None, True): AttributeError in crmcore/kernel/arrays.py read_only; fix: kernel.arrays.read_only: np.asarray the value first, or have the report constructors validate their arrays (ValidationError naming the column); and 3 more"
    ),
    "crmcore.marketing.next_best_offer.NextBestOffers.for_customer": (
        "customer_id (lone surrogate): TypeError in crmcore/marketing/next_best_offer.py for_customer; fix: validate customer_id where it enters (for_customer) with a ValidationError naming it; customer_id (NaN array, str array): ValueError in crmcore/marketing/next_best_offer.py for_customer; fix: validate customer_id where it enters (for_customer) with a ValidationError naming it"
    ),
    "crmcore.marketing.next_best_offer.NextBestOffers.offer": (
        "i (None, True): TypeError in crmcore/marketing/next_best_offer.py offer; fix: validate i where it enters (offer) with a ValidationError naming it; i (1.5 (a float for an int), bytes): IndexError in crmcore/marketing/next_best_offer.py offer; fix: validate i where it enters (offer) with a ValidationError naming it; i (2**63): OverflowError in crmcore/marketing/next_best_offer.py offer; fix: validate i where it enters (offer) with a ValidationError naming it"
    ),
    "crmcore.marketing.next_best_offer.next_best_offers": (
        "stage (None, True): ValueError in crmcore/marketing/next_best_offer.py next_best_offers; fix: validate stage where it enters (next_best_offers) with a ValidationError naming it; by (NaN array, empty array): ValueError in crmcore/marketing/next_best_offer.py next_best_offers; fix: validate by where it enters (next_best_offers) with a ValidationError naming it"
    ),
    "crmcore.marketing.next_best_offer.offers_for": (
        "bought (None, True): TypeError in crmcore/marketing/next_best_offer.py offers_for; fix: validate bought where it enters (offers_for) with a ValidationError naming it; by (NaN array, empty array): ValueError in crmcore/marketing/next_best_offer.py offers_for; fix: validate by where it enters (offers_for) with a ValidationError naming it"
    ),
    "crmcore.marketing.steps.WaitUntil": (
        "weekdays (NaN array, empty array): ValueError in crmcore/marketing/local_time.py check_weekdays; fix: validate weekdays where it enters (WaitUntil) with a ValidationError naming it"
    ),
    "crmcore.marketing.triggers.ChurnRiskTrigger.matches": (
        "event (None, True): AttributeError in crmcore/marketing/triggers.py matches; fix: validate event where it enters (matches) with a ValidationError naming it"
    ),
    "crmcore.marketing.triggers.HolidayTrigger": (
        "dates (2-D array): TypeError in crmcore/marketing/triggers.py _holidays; fix: validate dates where it enters (HolidayTrigger) with a ValidationError naming it"
    ),
    "crmcore.marketing.triggers.HolidayTrigger.occurrences": (
        "zone_name (empty list, list of None): TypeError in crmcore/marketing/local_time.py local_instant; fix: validate zone_name where it enters (occurrences) with a ValidationError naming it; zone_name (huge str): OSError in crmcore/marketing/local_time.py zone; fix: validate zone_name where it enters (occurrences) with a ValidationError naming it; now (far-future datetime): OverflowError in crmcore/marketing/triggers.py occurrences; fix: validate now where it enters (occurrences) with a ValidationError naming it"
    ),
    "crmcore.marketing.triggers.InactivityTrigger.occurrences": (
        "record (None, True): AttributeError in crmcore/marketing/triggers.py occurrences; fix: validate record where it enters (occurrences) with a ValidationError naming it; zone_name (None, True): AttributeError in crmcore/marketing/triggers.py occurrences; fix: validate zone_name where it enters (occurrences) with a ValidationError naming it; since (None, True): AttributeError in crmcore/marketing/triggers.py occurrences; fix: validate since where it enters (occurrences) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.marketing.triggers.LifecycleTrigger.matches": (
        "event (None, True): AttributeError in crmcore/marketing/triggers.py matches; fix: validate event where it enters (matches) with a ValidationError naming it"
    ),
    "crmcore.marketing.triggers.SegmentTrigger": (
        "on (NaN array, empty array): ValueError in crmcore/marketing/triggers.py _on; fix: validate on where it enters (SegmentTrigger) with a ValidationError naming it"
    ),
    "crmcore.marketing.triggers.SegmentTrigger.matches": (
        "event (None, True): AttributeError in crmcore/marketing/triggers.py matches; fix: validate event where it enters (matches) with a ValidationError naming it"
    ),
    "crmcore.marketing.workflow_json.workflow_to_json_text": (
        "indent (1.5 (a float for an int), bytes): TypeError in crmcore/marketing/workflow_json.py workflow_to_json_text; fix: validate indent where it enters (workflow_to_json_text) with a ValidationError naming it; indent (2**63): OverflowError in crmcore/marketing/workflow_json.py workflow_to_json_text; fix: validate indent where it enters (workflow_to_json_text) with a ValidationError naming it; indent (NaN array, empty array): UFuncTypeError in crmcore/marketing/workflow_json.py workflow_to_json_text; fix: validate indent where it enters (workflow_to_json_text) with a ValidationError naming it"
    ),
    "crmcore.marketing.workflow_reports.WorkflowReport.workflow": (
        "workflow_id (NaN array, empty array): ValueError in crmcore/marketing/workflow_reports.py workflow; fix: validate workflow_id where it enters (workflow) with a ValidationError naming it"
    ),
    "crmcore.marketing.workflow_reports.WorkflowSummary.step": (
        "step_id (NaN array, empty array): ValueError in crmcore/marketing/workflow_reports.py step; fix: validate step_id where it enters (step) with a ValidationError naming it"
    ),
    "crmcore.marketing.workflow_reports.workflow_report": (
        "enrolments (None, True): TypeError in crmcore/marketing/workflow_reports.py workflow_report; fix: validate enrolments where it enters (workflow_report) with a ValidationError naming it"
    ),
    "crmcore.marketing.workflows.Workflow.next_of": (
        "step_id (empty list, list of None): TypeError in crmcore/kernel/frozen.py __getitem__; fix: FrozenDict.__init__: accept a Mapping or an iterable of pairs, else ValidationError('data', ...); FrozenDict.set/get: an unhashable key is a ValidationError"
    ),
    "crmcore.marketing.workflows.Workflow.step": (
        "step_id (empty list, list of None): TypeError in crmcore/kernel/frozen.py __getitem__; fix: FrozenDict.__init__: accept a Mapping or an iterable of pairs, else ValidationError('data', ...); FrozenDict.set/get: an unhashable key is a ValidationError"
    ),
    "crmcore.marketing.workflows.Workflow.successors": (
        "step_id (empty list, list of None): TypeError in crmcore/kernel/frozen.py __getitem__; fix: FrozenDict.__init__: accept a Mapping or an iterable of pairs, else ValidationError('data', ...); FrozenDict.set/get: an unhashable key is a ValidationError"
    ),
    "crmcore.marketing.workflows.WorkflowCatalog.get": (
        "workflow_id (empty list, list of None): TypeError in crmcore/marketing/workflows.py get; fix: validate workflow_id where it enters (get) with a ValidationError naming it; version (empty list, list of None): TypeError in crmcore/marketing/workflows.py get; fix: validate version where it enters (get) with a ValidationError naming it"
    ),
    "crmcore.marketing.workflows.WorkflowCatalog.latest": (
        "workflow_id (empty list, list of None): TypeError in crmcore/marketing/workflows.py latest; fix: validate workflow_id where it enters (latest) with a ValidationError naming it"
    ),
    "crmcore.marketing.workflows.WorkflowCatalog.versions": (
        "workflow_id (empty list, list of None): TypeError in crmcore/marketing/workflows.py versions; fix: validate workflow_id where it enters (versions) with a ValidationError naming it"
    ),
    "crmcore.marketing.workflows.WorkflowCatalog.with_version": (
        "workflow (None, True): AttributeError in crmcore/marketing/workflows.py with_version; fix: validate workflow where it enters (with_version) with a ValidationError naming it"
    ),
    "crmcore.plotting.clv.plot_purchase_model": (
        "kind (str array): ValueError in crmcore/plotting/clv.py plot_purchase_model; fix: validate kind where it enters (plot_purchase_model) with a ValidationError naming it"
    ),
    "crmcore.plotting.cohorts.plot_cohort_heatmap": (
        "value (str array): ValueError in crmcore/plotting/cohorts.py plot_cohort_heatmap; fix: validate value where it enters (plot_cohort_heatmap) with a ValidationError naming it"
    ),
    "crmcore.plotting.lifecycle.plot_lifecycle_flow": (
        "classifications (None, 1.5 (a float for an int)): TypeError in crmcore/plotting/lifecycle.py plot_lifecycle_flow; fix: validate classifications where it enters (plot_lifecycle_flow) with a ValidationError naming it; share (str array): ValueError in crmcore/plotting/lifecycle.py plot_lifecycle_flow; fix: validate share where it enters (plot_lifecycle_flow) with a ValidationError naming it"
    ),
    "crmcore.plotting.loyalty.plot_liability": (
        "reports (None, 1.5 (a float for an int)): TypeError in crmcore/plotting/loyalty.py plot_liability; fix: validate reports where it enters (plot_liability) with a ValidationError naming it"
    ),
    "crmcore.plotting.rfm.plot_rfm_segments": (
        "size (str array): ValueError in crmcore/plotting/rfm.py plot_rfm_segments; fix: validate size where it enters (plot_rfm_segments) with a ValidationError naming it"
    ),
    "crmcore.sales._frame_checks.day_number": (
        "day (None, True): TypeError in crmcore/sales/_frame_checks.py day_number; fix: validate day where it enters (day_number) with a ValidationError naming it; day (empty array): AttributeError in crmcore/sales/_frame_checks.py day_number; fix: validate day where it enters (day_number) with a ValidationError naming it"
    ),
    "crmcore.sales.account_hierarchy.AccountHierarchy": (
        "ids (None, True): TypeError in crmcore/sales/account_hierarchy.py __attrs_post_init__; fix: validate ids where it enters (AccountHierarchy) with a ValidationError naming it; parent (None, list of None): TypeError in crmcore/sales/account_hierarchy.py __attrs_post_init__; fix: validate parent where it enters (AccountHierarchy) with a ValidationError naming it; parent (bytes, nan): ValueError in crmcore/sales/account_hierarchy.py __attrs_post_init__; fix: validate parent where it enters (AccountHierarchy) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.sales.account_hierarchy.AccountHierarchy.from_accounts": (
        "accounts (None, True): TypeError in crmcore/sales/account_hierarchy.py from_accounts; fix: validate accounts where it enters (from_accounts) with a ValidationError naming it; accounts (bytes, list of None): AttributeError in crmcore/sales/account_hierarchy.py <dictcomp>; fix: validate accounts where it enters (from_accounts) with a ValidationError naming it"
    ),
    "crmcore.sales.account_hierarchy.AccountHierarchy.lift_pairs": (
        "accounts (None, True): TypeError in crmcore/sales/account_hierarchy.py lift_pairs; fix: validate accounts where it enters (lift_pairs) with a ValidationError naming it; accounts (bytes, list of None): IndexError in crmcore/sales/account_hierarchy.py lift_pairs; fix: validate accounts where it enters (lift_pairs) with a ValidationError naming it; accounts (empty list, empty dict): ValueError in crmcore/sales/account_hierarchy.py lift_pairs; fix: validate accounts where it enters (lift_pairs) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.sales.account_hierarchy.AccountHierarchy.positions": (
        "ids (lone surrogate): UnicodeEncodeError in crmcore/sales/account_hierarchy.py id_positions; fix: validate ids where it enters (positions) with a ValidationError naming it"
    ),
    "crmcore.sales.account_hierarchy.id_positions": (
        "vocabulary (None, True): TypeError in crmcore/sales/account_hierarchy.py id_positions; fix: validate vocabulary where it enters (id_positions) with a ValidationError naming it; vocabulary (lone surrogate): UnicodeEncodeError in crmcore/sales/account_hierarchy.py id_positions; fix: validate vocabulary where it enters (id_positions) with a ValidationError naming it; vocabulary (2-D array): ValueError in crmcore/sales/account_hierarchy.py id_positions; fix: validate vocabulary where it enters (id_positions) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.sales.account_rollups.AccountRollups.row": (
        "account_id (NaN array, empty array): ValueError in crmcore/sales/account_rollups.py row; fix: validate account_id where it enters (row) with a ValidationError naming it"
    ),
    "crmcore.sales.account_rollups.HealthPolicy.band": (
        "health (bytes, empty list): TypeError in crmcore/sales/account_rollups.py band; fix: validate health where it enters (band) with a ValidationError naming it; health (Decimal NaN): InvalidOperation in crmcore/sales/account_rollups.py band; fix: validate health where it enters (band) with a ValidationError naming it; health (NaN array, empty array): ValueError in crmcore/sales/account_rollups.py band; fix: validate health where it enters (band) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.sales.account_rollups.account_rollups": (
        "accounts (None, True): TypeError in crmcore/sales/account_rollups.py account_rollups; fix: validate accounts where it enters (account_rollups) with a ValidationError naming it; include_children (NaN array, empty array): ValueError in crmcore/sales/account_rollups.py _member_pairs; fix: validate include_children where it enters (account_rollups) with a ValidationError naming it; policy (True, 1.5 (a float for an int)): AttributeError in crmcore/sales/account_rollups.py _combine; fix: validate policy where it enters (account_rollups) with a ValidationError naming it"
    ),
    "crmcore.sales.deal_performance.DealPerformance.group": (
        "name (NaN array, empty array): ValueError in crmcore/sales/deal_performance.py group; fix: validate name where it enters (group) with a ValidationError naming it"
    ),
    "crmcore.sales.deal_performance.deal_performance": (
        "by (empty list, list of None): TypeError in crmcore/sales/opportunity_frame.py labels; fix: validate by where it enters (deal_performance) with a ValidationError naming it; by (NaN array, empty array): ValueError in crmcore/sales/deal_performance.py deal_performance; fix: validate by where it enters (deal_performance) with a ValidationError naming it; pipeline (True, 1.5 (a float for an int)): AttributeError in crmcore/sales/pipeline_reports_batch.py as_frame; fix: validate pipeline where it enters (deal_performance) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.sales.deal_risks.aged_deals": (
        "pipeline (True, 1.5 (a float for an int)): AttributeError in crmcore/sales/pipeline_reports_batch.py as_frame; fix: validate pipeline where it enters (aged_deals) with a ValidationError naming it; pipeline (NaN array, empty array): ValueError in crmcore/sales/pipeline_reports_batch.py as_frame; fix: validate pipeline where it enters (aged_deals) with a ValidationError naming it"
    ),
    "crmcore.sales.deal_risks.slipped_deals": (
        "pipeline (True, 1.5 (a float for an int)): AttributeError in crmcore/sales/pipeline_reports_batch.py as_frame; fix: validate pipeline where it enters (slipped_deals) with a ValidationError naming it; pipeline (NaN array, empty array): ValueError in crmcore/sales/pipeline_reports_batch.py as_frame; fix: validate pipeline where it enters (slipped_deals) with a ValidationError naming it; include_overdue (NaN array, empty array): ValueError in crmcore/sales/deal_risks.py slipped_deals; fix: validate include_overdue where it enters (slipped_deals) with a ValidationError naming it"
    ),
    "crmcore.sales.duplicates.choose_survivor": (
        "first (None, True): AttributeError in crmcore/sales/duplicates.py _survivor_key; fix: validate first where it enters (choose_survivor) with a ValidationError naming it; second (None, True): AttributeError in crmcore/sales/duplicates.py _survivor_key; fix: validate second where it enters (choose_survivor) with a ValidationError naming it"
    ),
    "crmcore.sales.exchange_rates.ExchangeRates.convert_minor": (
        "units (None, list of None): TypeError in crmcore/sales/exchange_rates.py convert_minor; fix: validate units where it enters (convert_minor) with a ValidationError naming it; units (bytes, nan): ValueError in crmcore/sales/exchange_rates.py convert_minor; fix: validate units where it enters (convert_minor) with a ValidationError naming it; units (2**63, inf): OverflowError in crmcore/sales/exchange_rates.py convert_minor; fix: validate units where it enters (convert_minor) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.sales.forecast.PipelineForecast.line": (
        "label (NaN array, empty array): ValueError in crmcore/sales/forecast.py line; fix: validate label where it enters (line) with a ValidationError naming it"
    ),
    "crmcore.sales.forecast.period_bounds": (
        "day (None, True): AttributeError in crmcore/sales/forecast.py period_bounds; fix: validate day where it enters (period_bounds) with a ValidationError naming it; day (far-future datetime, year-10000 local datetime): ValueError in crmcore/sales/forecast.py period_bounds; fix: validate day where it enters (period_bounds) with a ValidationError naming it; period (NaN array, empty array): ValueError in crmcore/sales/forecast.py _period_kind; fix: validate period where it enters (period_bounds) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.sales.forecast.pipeline_forecast": (
        "as_of (far-future datetime): ValueError in crmcore/sales/forecast.py period_bounds; fix: validate as_of where it enters (pipeline_forecast) with a ValidationError naming it; pipeline (True, 1.5 (a float for an int)): AttributeError in crmcore/sales/pipeline_reports_batch.py as_frame; fix: validate pipeline where it enters (pipeline_forecast) with a ValidationError naming it; pipeline (NaN array, empty array): ValueError in crmcore/sales/pipeline_reports_batch.py as_frame; fix: validate pipeline where it enters (pipeline_forecast) with a ValidationError naming it; and 7 more"
    ),
    "crmcore.sales.forecast_distribution.bernoulli_sum": (
        "amounts (None, list of None): TypeError in crmcore/sales/forecast_distribution.py _checked; fix: validate amounts where it enters (bernoulli_sum) with a ValidationError naming it; amounts (True, 1.5 (a float for an int)): ValueError in crmcore/sales/forecast_distribution.py _checked; fix: validate amounts where it enters (bernoulli_sum) with a ValidationError naming it; amounts (2**63, inf): OverflowError in crmcore/sales/forecast_distribution.py _checked; fix: validate amounts where it enters (bernoulli_sum) with a ValidationError naming it; and 6 more"
    ),
    "crmcore.sales.holt_winters.fit_holt_winters": (
        "y (bytes, empty str): ValueError in crmcore/sales/holt_winters.py _series; fix: validate y where it enters (fit_holt_winters) with a ValidationError naming it; y (empty dict, dict): TypeError in crmcore/sales/holt_winters.py _series; fix: validate y where it enters (fit_holt_winters) with a ValidationError naming it"
    ),
    "crmcore.sales.holt_winters.seasonal_naive": (
        "y (bytes, empty str): ValueError in crmcore/sales/holt_winters.py _series; fix: validate y where it enters (seasonal_naive) with a ValidationError naming it; y (empty dict, dict): TypeError in crmcore/sales/holt_winters.py _series; fix: validate y where it enters (seasonal_naive) with a ValidationError naming it"
    ),
    "crmcore.sales.lead_columns.LeadColumns.first_entered": (
        "status (None, True): ValueError in crmcore/sales/lead_columns.py first_entered; fix: validate status where it enters (first_entered) with a ValidationError naming it"
    ),
    "crmcore.sales.lead_columns.LeadColumns.reached_by": (
        "status (None, True): ValueError in crmcore/sales/lead_columns.py reached_by; fix: validate status where it enters (reached_by) with a ValidationError naming it"
    ),
    "crmcore.sales.lead_columns.lead_frame": (
        "leads (None, True): TypeError in crmcore/sales/lead_columns.py lead_frame; fix: validate leads where it enters (lead_frame) with a ValidationError naming it"
    ),
    "crmcore.sales.lead_conversion_report.conversion_by_source": (
        "by (NaN array, empty array): ValueError in crmcore/sales/_lead_report_kit.py lead_groups; fix: validate by where it enters (conversion_by_source) with a ValidationError naming it"
    ),
    "crmcore.sales.lead_events.activity_completed": (
        "activity (None, True): AttributeError in crmcore/sales/lead_events.py activity_completed; fix: validate activity where it enters (activity_completed) with a ValidationError naming it"
    ),
    "crmcore.sales.lead_events.activity_scheduled": (
        "activity (None, True): AttributeError in crmcore/sales/lead_events.py activity_scheduled; fix: validate activity where it enters (activity_scheduled) with a ValidationError naming it"
    ),
    "crmcore.sales.lead_events.status_events": (
        "change (None, True): AttributeError in crmcore/sales/lead_events.py status_events; fix: validate change where it enters (status_events) with a ValidationError naming it"
    ),
    "crmcore.sales.lead_reports.overdue_follow_ups": (
        "by (NaN array, empty array): ValueError in crmcore/sales/lead_reports.py overdue_follow_ups; fix: validate by where it enters (overdue_follow_ups) with a ValidationError naming it; open_leads_only (NaN array, empty array): ValueError in crmcore/sales/lead_reports.py overdue_follow_ups; fix: validate open_leads_only where it enters (overdue_follow_ups) with a ValidationError naming it"
    ),
    "crmcore.sales.lead_reports.time_to_first_touch": (
        "by (NaN array, empty array): ValueError in crmcore/sales/_lead_report_kit.py lead_groups; fix: validate by where it enters (time_to_first_touch) with a ValidationError naming it"
    ),
    "crmcore.sales.leads.Lead.create": (
        "tags (None, True): TypeError in crmcore/sales/leads.py create; fix: validate tags where it enters (create) with a ValidationError naming it; attributes (NaN array, empty array): ValueError in crmcore/sales/leads.py create; fix: validate attributes where it enters (create) with a ValidationError naming it"
    ),
    "crmcore.sales.leads.Lead.update_details": (
        "tags (None, True): TypeError in crmcore/sales/leads.py update_details; fix: validate tags where it enters (update_details) with a ValidationError naming it"
    ),
    "crmcore.sales.model_evaluation.brier_score": (
        "probability (bytes, empty str): ValueError in crmcore/sales/model_evaluation.py _inputs; fix: validate probability where it enters (brier_score) with a ValidationError naming it; probability (empty dict, dict): TypeError in crmcore/sales/model_evaluation.py _inputs; fix: validate probability where it enters (brier_score) with a ValidationError naming it"
    ),
    "crmcore.sales.model_evaluation.evaluate": (
        "probability (bytes, empty str): ValueError in crmcore/sales/model_evaluation.py _inputs; fix: validate probability where it enters (evaluate) with a ValidationError naming it; probability (empty dict, dict): TypeError in crmcore/sales/model_evaluation.py _inputs; fix: validate probability where it enters (evaluate) with a ValidationError naming it"
    ),
    "crmcore.sales.model_evaluation.roc_auc": (
        "probability (bytes, empty str): ValueError in crmcore/sales/model_evaluation.py _inputs; fix: validate probability where it enters (roc_auc) with a ValidationError naming it; probability (empty dict, dict): TypeError in crmcore/sales/model_evaluation.py _inputs; fix: validate probability where it enters (roc_auc) with a ValidationError naming it"
    ),
    "crmcore.sales.opportunity_changes.line_items_total": (
        "items (None, True): TypeError in crmcore/sales/opportunity_changes.py line_items_total; fix: validate items where it enters (line_items_total) with a ValidationError naming it; items (bytes, list of None): AttributeError in crmcore/sales/opportunity_changes.py line_items_total; fix: validate items where it enters (line_items_total) with a ValidationError naming it"
    ),
    "crmcore.sales.opportunity_frame.OpportunityFrame.from_arrays": (
        "stage (NaN array): RuntimeWarning in crmcore/sales/_frame_checks.py _column; fix: validate stage where it enters (from_arrays) with a ValidationError naming it"
    ),
    "crmcore.sales.opportunity_frame.OpportunityFrame.from_opportunities": (
        "opportunities (None, True): TypeError in crmcore/sales/opportunity_frame.py from_opportunities; fix: validate opportunities where it enters (from_opportunities) with a ValidationError naming it"
    ),
    "crmcore.sales.opportunity_frame.OpportunityFrame.labels": (
        "by (empty list, list of None): TypeError in crmcore/sales/opportunity_frame.py labels; fix: validate by where it enters (labels) with a ValidationError naming it; by (NaN array, empty array): ValueError in crmcore/sales/opportunity_frame.py labels; fix: validate by where it enters (labels) with a ValidationError naming it"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine": (
        "name (None, True): StopIteration in crmcore/sales/pipeline_machine.py __init__; fix: validate name where it enters (PipelineMachine) with a ValidationError naming it; states (None, True): TypeError in crmcore/sales/pipeline_machine.py __init__; fix: validate states where it enters (PipelineMachine) with a ValidationError naming it; states (bytes, list of None): TypeError in crmcore/kernel/machine.py __init__; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; and 5 more"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.choose": (
        "rows (None, True): TypeError in crmcore/kernel/machine.py choose; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; rows (bytes, list of None): AttributeError in crmcore/kernel/machine.py choose; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; rows (empty list, empty str): IndexError in crmcore/kernel/machine.py choose; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; and 2 more"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.fire": (
        "state (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_on; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; trigger (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_on; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.move": (
        "state (None, True): AttributeError in crmcore/kernel/machine.py reaching; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; state (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_between; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; target (None, True): AttributeError in crmcore/kernel/machine.py reaching; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; and 2 more"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.reaching": (
        "state (None, True): AttributeError in crmcore/kernel/machine.py reaching; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; state (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_between; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; target (None, True): AttributeError in crmcore/kernel/machine.py reaching; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; and 1 more"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.row_between": (
        "source (None, True): ValueError in crmcore/sales/pipeline_machine.py stage_of; fix: validate source where it enters (row_between) with a ValidationError naming it; target (None, True): ValueError in crmcore/sales/pipeline_machine.py stage_of; fix: validate target where it enters (row_between) with a ValidationError naming it; context (None, True): ValueError in crmcore/sales/pipeline_machine.py stage_of; fix: validate context where it enters (row_between) with a ValidationError naming it"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.rows_between": (
        "source (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_between; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; target (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_between; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.rows_of": (
        "sources (None, True): TypeError in crmcore/kernel/machine.py rows_of; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; sources (bytes, nan): ValueError in crmcore/kernel/machine.py rows_of; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; sources (2**63, inf): OverflowError in crmcore/kernel/machine.py rows_of; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; and 2 more"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.rows_on": (
        "source (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_on; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; trigger (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_on; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.stage_of": (
        "key (None, True): ValueError in crmcore/sales/pipeline_machine.py stage_of; fix: validate key where it enters (stage_of) with a ValidationError naming it"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.state_code": (
        "state (None, True): KeyError in crmcore/kernel/machine.py state_code; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; state (empty list, list of None): TypeError in crmcore/kernel/machine.py state_code; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.targets": (
        "states (None, True): TypeError in crmcore/kernel/machine.py targets; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; states (bytes, nan): ValueError in crmcore/kernel/machine.py targets; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; states (2**63, inf): OverflowError in crmcore/kernel/machine.py targets; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; and 2 more"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.trigger_code": (
        "trigger (None, True): KeyError in crmcore/kernel/machine.py trigger_code; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; trigger (empty list, list of None): TypeError in crmcore/kernel/machine.py trigger_code; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.triggered": (
        "state (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_on; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup; trigger (empty list, list of None): TypeError in crmcore/kernel/machine.py rows_on; fix: Machine lookups (rows_on, rows_between, reaching, choose, targets, rows_of): check the state/trigger is a member of the machine's enum before the dict lookup"
    ),
    "crmcore.sales.pipeline_machine.build_machine": (
        "name (NUL str): ValueError in crmcore/sales/pipeline_machine.py build_machine; fix: validate name where it enters (build_machine) with a ValidationError naming it; name (lone surrogate): UnicodeEncodeError in crmcore/sales/pipeline_machine.py build_machine; fix: validate name where it enters (build_machine) with a ValidationError naming it; stages (None, True): TypeError in crmcore/sales/pipeline_machine.py build_machine; fix: validate stages where it enters (build_machine) with a ValidationError naming it; and 3 more"
    ),
    "crmcore.sales.pipeline_machine.entry_problems": (
        "context (None, True): AttributeError in crmcore/sales/pipeline_machine.py entry_problems; fix: validate context where it enters (entry_problems) with a ValidationError naming it"
    ),
    "crmcore.sales.pipeline_reports.PipelineReport.stage": (
        "key (NaN array, empty array): ValueError in crmcore/sales/pipeline_reports.py stage; fix: validate key where it enters (stage) with a ValidationError naming it"
    ),
    "crmcore.sales.pipeline_reports.pipeline_report": (
        "pipeline (True, 1.5 (a float for an int)): AttributeError in crmcore/sales/pipeline_reports_batch.py as_frame; fix: validate pipeline where it enters (pipeline_report) with a ValidationError naming it; pipeline (NaN array, empty array): ValueError in crmcore/sales/pipeline_reports_batch.py as_frame; fix: validate pipeline where it enters (pipeline_report) with a ValidationError naming it"
    ),
    "crmcore.sales.predictive.LogisticModel.explain": (
        "record (empty dict, dict): IndexError in crmcore/sales/predictive.py explain; fix: validate record where it enters (explain) with a ValidationError naming it"
    ),
    "crmcore.sales.predictive.LogisticModel.predict_one": (
        "record (empty dict, dict): IndexError in crmcore/sales/predictive.py explain; fix: validate record where it enters (predict_one) with a ValidationError naming it"
    ),
    "crmcore.sales.predictive.NaiveBayesModel.explain": (
        "record (empty dict, dict): IndexError in crmcore/sales/predictive.py explain; fix: validate record where it enters (explain) with a ValidationError naming it"
    ),
    "crmcore.sales.predictive.NaiveBayesModel.predict_one": (
        "record (empty dict, dict): IndexError in crmcore/sales/predictive.py explain; fix: validate record where it enters (predict_one) with a ValidationError naming it"
    ),
    "crmcore.sales.predictive.PredictionExplanation.strongest": (
        "n (1.5 (a float for an int), bytes): TypeError in crmcore/sales/predictive.py strongest; fix: validate n where it enters (strongest) with a ValidationError naming it"
    ),
    "crmcore.sales.predictive_features.CategoricalFeature.codes": (
        "column (None, True): AttributeError in crmcore/sales/predictive_features.py codes; fix: validate column where it enters (codes) with a ValidationError naming it"
    ),
    "crmcore.sales.predictive_features.CategoricalFeature.learn": (
        "column (None, True): AttributeError in crmcore/sales/predictive_features.py learn; fix: validate column where it enters (learn) with a ValidationError naming it; max_levels (2**63): AttributeError in crmcore/sales/predictive_features.py learn; fix: validate max_levels where it enters (learn) with a ValidationError naming it; min_count (2**63): AttributeError in crmcore/sales/predictive_features.py learn; fix: validate min_count where it enters (learn) with a ValidationError naming it"
    ),
    "crmcore.sales.predictive_features.NumericFeature.codes": (
        "column (None, True): AttributeError in crmcore/sales/predictive_features.py codes; fix: validate column where it enters (codes) with a ValidationError naming it"
    ),
    "crmcore.sales.predictive_features.NumericFeature.learn": (
        "column (None, True): AttributeError in crmcore/sales/predictive_features.py learn; fix: validate column where it enters (learn) with a ValidationError naming it; bins (2**63): AttributeError in crmcore/sales/predictive_features.py learn; fix: validate bins where it enters (learn) with a ValidationError naming it"
    ),
    "crmcore.sales.predictive_features.NumericFeature.standardized": (
        "column (None, True): AttributeError in crmcore/sales/predictive_features.py standardized; fix: validate column where it enters (standardized) with a ValidationError naming it"
    ),
    "crmcore.sales.relationship_graph.RelationshipGraph": (
        "nodes (None, True): TypeError in crmcore/sales/relationship_graph.py _referral_parent; fix: validate nodes where it enters (RelationshipGraph) with a ValidationError naming it; nodes (empty list, list of None): IndexError in crmcore/sales/relationship_graph.py _referral_parent; fix: validate nodes where it enters (RelationshipGraph) with a ValidationError naming it; source (None, True): TypeError in crmcore/sales/relationship_graph.py _referral_parent; fix: validate source where it enters (RelationshipGraph) with a ValidationError naming it; and 4 more"
    ),
    "crmcore.sales.relationship_graph.RelationshipGraph.accounts_brought_by": (
        "partner_kind (None, True): ValueError in crmcore/sales/relationship_graph.py accounts_brought_by; fix: validate partner_kind where it enters (accounts_brought_by) with a ValidationError naming it"
    ),
    "crmcore.sales.relationship_graph.RelationshipGraph.advocates": (
        "by (NaN array, empty array): ValueError in crmcore/sales/relationship_graph.py advocates; fix: validate by where it enters (advocates) with a ValidationError naming it; top (1.5 (a float for an int), bytes): TypeError in crmcore/sales/relationship_graph.py advocates; fix: validate top where it enters (advocates) with a ValidationError naming it"
    ),
    "crmcore.sales.relationship_graph.RelationshipGraph.from_relationships": (
        "relationships (None, True): TypeError in crmcore/sales/relationship_graph.py from_relationships; fix: validate relationships where it enters (from_relationships) with a ValidationError naming it"
    ),
    "crmcore.sales.relationship_graph.RelationshipGraph.neighbours": (
        "kind (None, True): ValueError in crmcore/sales/relationship_graph.py _node; fix: validate kind where it enters (neighbours) with a ValidationError naming it"
    ),
    "crmcore.sales.relationships.Relationship.partner": (
        "reseller (NaN array, empty array): ValueError in crmcore/sales/relationships.py partner; fix: validate reseller where it enters (partner) with a ValidationError naming it"
    ),
    "crmcore.sales.relationships.node_key": (
        "kind (None, True): AttributeError in crmcore/sales/relationships.py node_key; fix: validate kind where it enters (node_key) with a ValidationError naming it"
    ),
    "crmcore.sales.revenue_forecast.revenue_forecast": (
        "as_of (far-future datetime): RuntimeWarning in crmcore/sales/holt_winters.py _smooth; fix: validate as_of where it enters (revenue_forecast) with a ValidationError naming it; period (empty list, list of None): TypeError in crmcore/sales/revenue_forecast.py revenue_forecast; fix: validate period where it enters (revenue_forecast) with a ValidationError naming it; method (NaN array, empty array): ValueError in crmcore/sales/revenue_forecast.py revenue_forecast; fix: validate method where it enters (revenue_forecast) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.sales.scoring.LeadScore.points_of": (
        "rule (NaN array, empty array): ValueError in crmcore/sales/scoring.py points_of; fix: validate rule where it enters (points_of) with a ValidationError naming it"
    ),
    "crmcore.sales.scoring_batch.EngagementIndex.from_arrays": (
        "n (None, True): TypeError in crmcore/sales/scoring_batch.py from_arrays; fix: validate n where it enters (from_arrays) with a ValidationError naming it; rows (None, True): TypeError in crmcore/sales/scoring_batch.py from_arrays; fix: validate rows where it enters (from_arrays) with a ValidationError naming it; rows (bytes, nan): ValueError in crmcore/sales/scoring_batch.py from_arrays; fix: validate rows where it enters (from_arrays) with a ValidationError naming it; and 6 more"
    ),
    "crmcore.sales.scoring_batch.EngagementIndex.slices": (
        "rule (None, True): AttributeError in crmcore/sales/scoring_batch.py slices; fix: validate rule where it enters (slices) with a ValidationError naming it; end (None, empty list): TypeError in crmcore/sales/scoring_batch.py slices; fix: validate end where it enters (slices) with a ValidationError naming it; end (Decimal NaN): InvalidOperation in crmcore/sales/scoring_batch.py slices; fix: validate end where it enters (slices) with a ValidationError naming it"
    ),
    "crmcore.sales.scoring_rules.Decay": (
        "mode (NaN array, empty array): ValueError in crmcore/sales/scoring_rules.py _mode; fix: validate mode where it enters (Decay) with a ValidationError naming it"
    ),
    "crmcore.sales.scoring_rules.Decay.weights": (
        "age_us (None, list of None): TypeError in crmcore/sales/scoring_rules.py weights; fix: validate age_us where it enters (weights) with a ValidationError naming it; age_us (bytes, nan): ValueError in crmcore/sales/scoring_rules.py weights; fix: validate age_us where it enters (weights) with a ValidationError naming it; age_us (2**63, inf): OverflowError in crmcore/sales/scoring_rules.py weights; fix: validate age_us where it enters (weights) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.sales.scoring_rules.EngagementRule": (
        "kinds (2-D array): TypeError in crmcore/sales/scoring_rules.py _kinds; fix: validate kinds where it enters (EngagementRule) with a ValidationError naming it"
    ),
    "crmcore.sales.scoring_rules.EngagementRule.from_json": (
        "data (None, True): AttributeError in crmcore/sales/scoring_rules.py from_json; fix: validate data where it enters (from_json) with a ValidationError naming it; data (empty dict, dict): KeyError in crmcore/sales/scoring_rules.py from_json; fix: validate data where it enters (from_json) with a ValidationError naming it"
    ),
    "crmcore.sales.scoring_rules.FitRule.from_json": (
        "data (None, True): TypeError in crmcore/sales/scoring_rules.py from_json; fix: validate data where it enters (from_json) with a ValidationError naming it; data (empty dict, dict): KeyError in crmcore/sales/scoring_rules.py from_json; fix: validate data where it enters (from_json) with a ValidationError naming it; data (NaN array, empty array): IndexError in crmcore/sales/scoring_rules.py from_json; fix: validate data where it enters (from_json) with a ValidationError naming it"
    ),
    "crmcore.sales.scoring_rules.ScoreBands.codes": (
        "totals (None, list of None): TypeError in crmcore/sales/scoring_rules.py codes; fix: validate totals where it enters (codes) with a ValidationError naming it; totals (Decimal NaN): InvalidOperation in crmcore/sales/scoring_rules.py codes; fix: validate totals where it enters (codes) with a ValidationError naming it"
    ),
    "crmcore.sales.scoring_rules.ScoreBands.from_json": (
        "data (None, True): TypeError in crmcore/sales/scoring_rules.py from_json; fix: validate data where it enters (from_json) with a ValidationError naming it; data (bytes, list of None): TypeError in crmcore/sales/scoring_rules.py <genexpr>; fix: validate data where it enters (from_json) with a ValidationError naming it; data (NaN array, 2-D array): IndexError in crmcore/sales/scoring_rules.py <genexpr>; fix: validate data where it enters (from_json) with a ValidationError naming it"
    ),
    "crmcore.sales.scoring_rules.Threshold.met": (
        "total (None, bytes): TypeError in crmcore/sales/scoring_rules.py met; fix: validate total where it enters (met) with a ValidationError naming it; total (Decimal NaN): InvalidOperation in crmcore/sales/scoring_rules.py met; fix: validate total where it enters (met) with a ValidationError naming it; total (NaN array, empty array): ValueError in crmcore/sales/scoring_rules.py met; fix: validate total where it enters (met) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.sales.scoring_rules.Threshold.met_all": (
        "fit (None, True): TypeError in crmcore/sales/scoring_rules.py met_all; fix: validate fit where it enters (met_all) with a ValidationError naming it; engagement (None, True): TypeError in crmcore/sales/scoring_rules.py met_all; fix: validate engagement where it enters (met_all) with a ValidationError naming it; total (None, bytes): TypeError in crmcore/sales/scoring_rules.py met_all; fix: validate total where it enters (met_all) with a ValidationError naming it; and 2 more"
    ),
    "crmcore.sales.snapshots.PipelineMovement.flow": (
        "name (NaN array, empty array): ValueError in crmcore/sales/snapshots.py flow; fix: validate name where it enters (flow) with a ValidationError naming it"
    ),
    "crmcore.sales.snapshots.PipelineSnapshot.coverage": (
        "quota (negative Money, huge Money): AttributeError in crmcore/sales/snapshots.py <genexpr>; fix: validate quota where it enters (coverage) with a ValidationError naming it"
    ),
    "crmcore.sales.snapshots.PipelineSnapshot.line": (
        "stage (None, True): AttributeError in crmcore/sales/snapshots.py line; fix: validate stage where it enters (line) with a ValidationError naming it"
    ),
    "crmcore.sales.snapshots.pipeline_movement": (
        "pipeline (True, 1.5 (a float for an int)): AttributeError in crmcore/sales/pipeline_reports_batch.py as_frame; fix: validate pipeline where it enters (pipeline_movement) with a ValidationError naming it; pipeline (NaN array, empty array): ValueError in crmcore/sales/pipeline_reports_batch.py as_frame; fix: validate pipeline where it enters (pipeline_movement) with a ValidationError naming it"
    ),
    "crmcore.sales.snapshots.pipeline_snapshot": (
        "pipeline (True, 1.5 (a float for an int)): AttributeError in crmcore/sales/pipeline_reports_batch.py as_frame; fix: validate pipeline where it enters (pipeline_snapshot) with a ValidationError naming it; pipeline (NaN array, empty array): ValueError in crmcore/sales/pipeline_reports_batch.py as_frame; fix: validate pipeline where it enters (pipeline_snapshot) with a ValidationError naming it"
    ),
    "crmcore.segments.sql.SqlTables": (
        "time_encoding (NaN array, empty array): ValueError in crmcore/segments/sql.py _check_times; fix: validate time_encoding where it enters (SqlTables) with a ValidationError naming it; date_encoding (NaN array, empty array): ValueError in crmcore/segments/sql.py _check_dates; fix: validate date_encoding where it enters (SqlTables) with a ValidationError naming it"
    ),
    "crmcore.segments.sql.SqlTables.default": (
        "dialect (NaN array, empty array): ValueError in crmcore/segments/sql.py _check_dialect; fix: validate dialect where it enters (default) with a ValidationError naming it"
    ),
    "crmcore.segments.sql.escape_like": (
        "text (None, True): AttributeError in crmcore/segments/sql.py escape_like; fix: validate text where it enters (escape_like) with a ValidationError naming it; text (bytes, naive datetime): TypeError in crmcore/segments/sql.py escape_like; fix: validate text where it enters (escape_like) with a ValidationError naming it"
    ),
    "crmcore.segments.sql.quote_identifier": (
        "dialect (NaN array, empty array): ValueError in crmcore/segments/sql.py quote_identifier; fix: validate dialect where it enters (quote_identifier) with a ValidationError naming it"
    ),
    "crmcore.segments.sql.to_sql": (
        "dialect (NaN array, empty array): ValueError in crmcore/segments/sql.py _check_dialect; fix: validate dialect where it enters (to_sql) with a ValidationError naming it; tables (True, 1.5 (a float for an int)): AttributeError in crmcore/segments/sql.py __init__; fix: validate tables where it enters (to_sql) with a ValidationError naming it; what (NaN array, empty array): ValueError in crmcore/segments/sql.py to_sql; fix: validate what where it enters (to_sql) with a ValidationError naming it"
    ),
    "crmcore.services.coupons.define_coupon": (
        "store (None, True): AttributeError in crmcore/services/coupons.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.coupons.issue_coupon": (
        "store (None, True): AttributeError in crmcore/services/coupons.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); holder (NaN array, empty array): ValueError in crmcore/marketing/coupon_redemption.py issue_coupon; fix: validate holder where it enters (issue_coupon) with a ValidationError naming it; code_format (True, 1.5 (a float for an int)): AttributeError in crmcore/services/coupons.py _code; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.coupons.issue_coupons": (
        "store (None, True): AttributeError in crmcore/services/coupons.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); codes (None, True): TypeError in crmcore/services/coupons.py issue_coupons; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); holders (True, 1.5 (a float for an int)): TypeError in crmcore/services/coupons.py issue_coupons; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); and 1 more"
    ),
    "crmcore.services.coupons.redeem_coupon": (
        "store (None, True): AttributeError in crmcore/services/coupons.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); stacked_with (None, True): TypeError in crmcore/services/coupons.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.coupons.reverse_coupon_redemption": (
        "store (None, True): AttributeError in crmcore/services/coupons.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.coupons.void_coupon": (
        "store (None, True): AttributeError in crmcore/services/coupons.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.customers.change_customer": (
        "store (None, True): AttributeError in crmcore/services/customers.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); change (None, True): TypeError in crmcore/services/customers.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); change (a function, a function): AttributeError in crmcore/storage/unit_of_work.py take; fix: validate change where it enters (change_customer) with a ValidationError naming it; and 1 more"
    ),
    "crmcore.services.customers.erase_customer": (
        "store (None, True): AttributeError in crmcore/services/customers.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.customers.export_customer_data": (
        "store (None, True): AttributeError in crmcore/services/customers.py export_customer_data; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.customers.import_customers": (
        "store (None, True): AttributeError in crmcore/services/customers.py import_customers; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); customers (None, True): TypeError in crmcore/services/customers.py import_customers; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); purchases (None, True): TypeError in crmcore/services/customers.py import_customers; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.customers.record_interaction": (
        "store (None, True): AttributeError in crmcore/services/customers.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.customers.record_purchase": (
        "store (None, True): AttributeError in crmcore/services/customers.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.customers.record_service": (
        "store (None, True): AttributeError in crmcore/services/customers.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.customers.register_customer": (
        "store (None, True): AttributeError in crmcore/services/customers.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.customers.set_consent": (
        "store (None, True): AttributeError in crmcore/services/customers.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); granted (NaN array, empty array): ValueError in crmcore/services/customers.py apply; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.feedback.act_on_case": (
        "store (None, True): AttributeError in crmcore/services/feedback.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.feedback.change_improvement_action": (
        "store (None, True): AttributeError in crmcore/services/feedback.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.feedback.submit_feedback": (
        "store (None, True): AttributeError in crmcore/services/feedback.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.loyalty.adjust_points": (
        "store (None, True): AttributeError in crmcore/services/loyalty.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.loyalty.award_points": (
        "store (None, True): AttributeError in crmcore/services/loyalty.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.loyalty.claim_referral": (
        "store (None, True): AttributeError in crmcore/services/loyalty.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.loyalty.earn_for_purchase": (
        "store (None, True): AttributeError in crmcore/services/loyalty.py _earn_once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.loyalty.expire_accounts": (
        "store (None, True): AttributeError in crmcore/services/loyalty.py _expire_batch; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.loyalty.issue_referral_code": (
        "store (None, True): AttributeError in crmcore/services/loyalty.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); seed (lone surrogate, lone surrogate): UnicodeEncodeError in crmcore/loyalty/referrals.py generate_code; fix: validate seed where it enters (issue_referral_code) with a ValidationError naming it"
    ),
    "crmcore.services.loyalty.loyalty_liability": (
        "store (None, True): AttributeError in crmcore/services/loyalty.py loyalty_liability; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); expected_redemption (Decimal NaN, empty str): InvalidOperation in crmcore/loyalty/ledger_batch.py _rate; fix: validate expected_redemption where it enters (loyalty_liability) with a ValidationError naming it"
    ),
    "crmcore.services.loyalty.open_account": (
        "store (None, True): AttributeError in crmcore/services/loyalty.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.loyalty.qualify_referral": (
        "store (None, True): AttributeError in crmcore/services/loyalty.py _qualify_once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.loyalty.redeem_points": (
        "store (None, True): AttributeError in crmcore/services/loyalty.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.loyalty.refund_purchase": (
        "store (None, True): AttributeError in crmcore/services/loyalty.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.loyalty.reverse_entry": (
        "store (None, True): AttributeError in crmcore/services/loyalty.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.marketing.advance_automation": (
        "store (None, True): AttributeError in crmcore/services/marketing.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); events (None, True): TypeError in crmcore/services/marketing.py advance_automation; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); requests (None, True): TypeError in crmcore/services/marketing.py advance_automation; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.marketing.enrol": (
        "store (None, True): AttributeError in crmcore/services/marketing.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); customer_ids (None, True): TypeError in crmcore/services/marketing.py enrol; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); default_zone (huge str, huge str): OSError in crmcore/marketing/local_time.py zone; fix: validate default_zone where it enters (enrol) with a ValidationError naming it"
    ),
    "crmcore.services.marketing.launch_campaign": (
        "store (None, True): AttributeError in crmcore/services/marketing.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.marketing.pause_workflow": (
        "store (None, True): AttributeError in crmcore/services/marketing.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.marketing.publish_workflow": (
        "store (None, True): AttributeError in crmcore/services/marketing.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.marketing.record_message_sent": (
        "store (None, True): AttributeError in crmcore/services/marketing.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); guardrails (None, True): AttributeError in crmcore/services/marketing.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.marketing.save_workflow": (
        "store (None, True): AttributeError in crmcore/services/marketing.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.opportunities.change_opportunity": (
        "store (None, True): AttributeError in crmcore/services/opportunities.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); change (None, True): TypeError in crmcore/services/opportunities.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.opportunities.lose_opportunity": (
        "store (None, True): AttributeError in crmcore/services/opportunities.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.opportunities.move_opportunity": (
        "store (None, True): AttributeError in crmcore/services/opportunities.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.opportunities.open_opportunity": (
        "store (None, True): AttributeError in crmcore/services/opportunities.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.opportunities.pipeline_snapshot": (
        "store (None, True): AttributeError in crmcore/services/opportunities.py pipeline_snapshot; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.opportunities.save_pipeline": (
        "store (None, True): AttributeError in crmcore/services/opportunities.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.opportunities.win_opportunity": (
        "store (None, True): AttributeError in crmcore/services/opportunities.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.retry.RetryPolicy.ceiling": (
        "attempt (None, bytes): TypeError in crmcore/services/retry.py ceiling; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); attempt (Decimal NaN): InvalidOperation in crmcore/services/retry.py ceiling; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); attempt (NaN array, empty array): ValueError in crmcore/services/retry.py ceiling; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); and 1 more"
    ),
    "crmcore.services.retry.RetryPolicy.delay": (
        "attempt (None, bytes): TypeError in crmcore/services/retry.py ceiling; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); attempt (Decimal NaN): InvalidOperation in crmcore/services/retry.py ceiling; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); attempt (NaN array, empty array): ValueError in crmcore/services/retry.py ceiling; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); and 1 more"
    ),
    "crmcore.services.sales.capture_lead": (
        "store (None, True): AttributeError in crmcore/services/sales.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); on_duplicate (NaN array, empty array): ValueError in crmcore/services/sales.py capture_lead; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.sales.change_lead": (
        "store (None, True): AttributeError in crmcore/services/sales.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); change (None, True): TypeError in crmcore/services/sales.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.sales.change_lead_status": (
        "store (None, True): AttributeError in crmcore/services/sales.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.sales.complete_activity": (
        "store (None, True): AttributeError in crmcore/services/sales.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.sales.convert_lead": (
        "store (None, True): AttributeError in crmcore/services/sales.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.sales.disqualify_lead": (
        "store (None, True): AttributeError in crmcore/services/sales.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.sales.log_activity": (
        "store (None, True): AttributeError in crmcore/services/sales.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.sales.merge_leads": (
        "store (None, True): AttributeError in crmcore/services/sales.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); survivor (NaN array, empty array): ValueError in crmcore/sales/duplicates.py merge_leads; fix: validate survivor where it enters (merge_leads) with a ValidationError naming it"
    ),
    "crmcore.services.sales.qualify_lead": (
        "store (None, True): AttributeError in crmcore/services/sales.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.sales.schedule_activity": (
        "store (None, True): AttributeError in crmcore/services/sales.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.sales_accounts.add_relationship": (
        "store (None, True): AttributeError in crmcore/services/sales_accounts.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.sales_accounts.change_sales_account": (
        "store (None, True): AttributeError in crmcore/services/sales_accounts.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.sales_accounts.end_relationship": (
        "store (None, True): AttributeError in crmcore/services/sales_accounts.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise); relationship (None, True): AttributeError in crmcore/services/sales_accounts.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.services.sales_accounts.set_account_parent": (
        "store (None, True): AttributeError in crmcore/services/sales_accounts.py once; fix: check `store` on entry (one helper: `if not callable(getattr(store, 'unit_of_work', None))`: ValidationError('store', ...)) and that a `change`/`operation` callback returned an Outcome (ValidationError naming it otherwise)"
    ),
    "crmcore.storage.kinds.redact_feedback": (
        "feedback (None, True): AttributeError in crmcore/storage/kinds.py redact_feedback; fix: validate feedback where it enters (redact_feedback) with a ValidationError naming it"
    ),
    "crmcore.storage.outbox.relay": (
        "outbox (None, True): AttributeError in crmcore/storage/outbox.py relay; fix: validate outbox where it enters (relay) with a ValidationError naming it; handler (None, True): AttributeError in crmcore/storage/outbox.py relay; fix: validate handler where it enters (relay) with a ValidationError naming it; limit (None, True): AttributeError in crmcore/storage/outbox.py relay; fix: validate limit where it enters (relay) with a ValidationError naming it"
    ),
    "crmcore.storage.postgres.store.PostgresStore": (
        "target (lone surrogate): UnicodeEncodeError in crmcore/storage/postgres/connections.py __init__; fix: validate target where it enters (PostgresStore) with a ValidationError naming it; schema (lone surrogate): UnicodeEncodeError in crmcore/storage/postgres/connections.py check_schema_name; fix: validate schema where it enters (PostgresStore) with a ValidationError naming it"
    ),
    "crmcore.storage.repositories.BufferedRecordRepository.add": (
        "record (None, True): AttributeError in crmcore/storage/repositories.py add; fix: validate ids with kernel.ids.validate_id in BufferedRepository.get/find/find_many and BufferedRecordRepository.get/find/for_customer (a list as an id is unhashable)"
    ),
    "crmcore.storage.repositories.BufferedRecordRepository.find": (
        "id (huge str, NUL str): AttributeError in crmcore/storage/repositories.py find; fix: validate ids with kernel.ids.validate_id in BufferedRepository.get/find/find_many and BufferedRecordRepository.get/find/for_customer (a list as an id is unhashable)"
    ),
    "crmcore.storage.repositories.BufferedRecordRepository.for_customer": (
        "customer_id (huge str, NUL str): AttributeError in crmcore/storage/memory.py records_for; fix: validate customer_id where it enters (for_customer) with a ValidationError naming it"
    ),
    "crmcore.storage.repositories.BufferedRecordRepository.get": (
        "id (huge str, NUL str): AttributeError in crmcore/storage/repositories.py find; fix: validate ids with kernel.ids.validate_id in BufferedRepository.get/find/find_many and BufferedRecordRepository.get/find/for_customer (a list as an id is unhashable)"
    ),
    "crmcore.storage.repositories.BufferedRecordRepository.redact": (
        "customer_id (None, True): AttributeError in crmcore/storage/repositories.py redact; fix: validate ids with kernel.ids.validate_id in BufferedRepository.get/find/find_many and BufferedRecordRepository.get/find/for_customer (a list as an id is unhashable)"
    ),
    "crmcore.storage.repositories.BufferedRepository.add": (
        "aggregate (None, True): AttributeError in crmcore/storage/repositories.py _check_type; fix: validate ids with kernel.ids.validate_id in BufferedRepository.get/find/find_many and BufferedRecordRepository.get/find/for_customer (a list as an id is unhashable)"
    ),
    "crmcore.storage.repositories.BufferedRepository.find": (
        "id (huge str, NUL str): AttributeError in crmcore/storage/repositories.py _pending; fix: validate ids with kernel.ids.validate_id in BufferedRepository.get/find/find_many and BufferedRecordRepository.get/find/for_customer (a list as an id is unhashable)"
    ),
    "crmcore.storage.repositories.BufferedRepository.find_many": (
        "ids (None, True): TypeError in crmcore/storage/repositories.py find_many; fix: validate ids with kernel.ids.validate_id in BufferedRepository.get/find/find_many and BufferedRecordRepository.get/find/for_customer (a list as an id is unhashable); ids (dict, str array): AttributeError in crmcore/storage/repositories.py _pending; fix: validate ids with kernel.ids.validate_id in BufferedRepository.get/find/find_many and BufferedRecordRepository.get/find/for_customer (a list as an id is unhashable)"
    ),
    "crmcore.storage.repositories.BufferedRepository.get": (
        "id (huge str, NUL str): AttributeError in crmcore/storage/repositories.py _pending; fix: validate ids with kernel.ids.validate_id in BufferedRepository.get/find/find_many and BufferedRecordRepository.get/find/for_customer (a list as an id is unhashable)"
    ),
    "crmcore.storage.repositories.BufferedRepository.list": (
        "after (None, True): AttributeError in crmcore/storage/memory.py fetch_page; fix: validate after where it enters (list) with a ValidationError naming it"
    ),
    "crmcore.storage.repositories.BufferedRepository.save": (
        "aggregate (None, True): AttributeError in crmcore/storage/repositories.py _check_type; fix: validate ids with kernel.ids.validate_id in BufferedRepository.get/find/find_many and BufferedRecordRepository.get/find/for_customer (a list as an id is unhashable)"
    ),
    "crmcore.storage.sqlite.store.SqliteStore": (
        "path (NUL str): ValueError in crmcore/storage/sqlite/connections.py connect; fix: validate path where it enters (SqliteStore) with a ValidationError naming it"
    ),
    "crmcore.storage.unit_of_work.BufferedUnitOfWork.take": (
        "outcome (None, True): AttributeError in crmcore/storage/unit_of_work.py take; fix: validate outcome where it enters (take) with a ValidationError naming it"
    ),
}

UNREACHED: Final[dict[str, str]] = {
    "crmcore.analytics.bgnbd.BgNbdModel.expected_purchases_new": (
        "ValidationError: t: must be finite numbers >= 0 (got 'x1')"
    ),
    "crmcore.analytics.bgnbd.bgnbd_log_likelihood": (
        "ValueError: could not convert string to float: 'x1'"
    ),
    "crmcore.analytics.btyd.BtydSummary.filter": (
        "ValidationError: mask: must be a bool array of length 150 (got ())"
    ),
    "crmcore.analytics.btyd.BtydSummary.take": (
        "ValidationError: indices: must be a 1-d array of int positions (got dtype('<U2'))"
    ),
    "crmcore.analytics.churn.CustomerValues.from_mapping": (
        "AttributeError: 'numpy.ndarray' object has no attribute 'values'"
    ),
    "crmcore.analytics.cohorts.CohortMatrix.row": ("NotFoundError: cohort 'value' not found"),
    "crmcore.analytics.kpis.HistoricalClv.value_of": ("NotFoundError: customer 'c-1' not found"),
    "crmcore.analytics.rfm.RfmTable.customers_in": ("NotFoundError: segment 'x1' not found"),
    "crmcore.analytics.rfm.RfmTable.index_of": ("NotFoundError: customer 'c-1' not found"),
    "crmcore.analytics.rfm.RfmTable.mask": ("NotFoundError: segment 'x1' not found"),
    "crmcore.analytics.rfm.RfmTable.row": ("NotFoundError: customer 'c-1' not found"),
    "crmcore.analytics.rfm_segments.SegmentMap.from_codes": (
        "ValidationError: segments['k-1']: must be 3-digit codes (got 'x1')"
    ),
    "crmcore.analytics.value_tiers.ValueTiers.customers_in": (
        "ValidationError: customer_ids: were not given to value_tiers (got None)"
    ),
    "crmcore.analytics.value_tiers.ValueTiers.mask": ("NotFoundError: tier 'x1' not found"),
    "crmcore.analytics.value_tiers.ValueTiers.tier_of": (
        "ValidationError: customer_ids: were not given to value_tiers (got None)"
    ),
    "crmcore.columnar.columns.Column.code_of": (
        "ValidationError: column: code_of needs a category or tags column (got 'float')"
    ),
    "crmcore.columnar.columns.Column.equals": ("no valid value for other: <class 'object'>"),
    "crmcore.columnar.columns.Column.has": (
        "ValidationError: column: only a tags column has offsets (got 'float')"
    ),
    "crmcore.columnar.columns.Column.isin": (
        "ValidationError: column: isin needs a category or string column (got 'float')"
    ),
    "crmcore.columnar.columns.Column.take": (
        "no valid value for indices: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.columnar.frame.CustomerFrame": (
        "ValidationError: id: required column is missing (got None)"
    ),
    "crmcore.columnar.frame.CustomerFrame.from_csv": (
        "FileNotFoundError: [Errno 2] No such file or directory: 'web_form'"
    ),
    "crmcore.columnar.frame.CustomerFrame.from_pandas": (
        "no valid value for df: <class 'inspect._empty'>"
    ),
    "crmcore.columnar.frame.CustomerFrame.index_of": (
        "ValidationError: ids[0]: is not a customer in this frame (got 'C')"
    ),
    "crmcore.columnar.frame.EventLog": (
        "ValidationError: at: required column is missing (got None)"
    ),
    "crmcore.columnar.frame.EventLog.from_csv": (
        "FileNotFoundError: [Errno 2] No such file or directory: 'web_form'"
    ),
    "crmcore.columnar.frame.EventLog.from_pandas": (
        "no valid value for df: <class 'inspect._empty'>"
    ),
    "crmcore.columnar.frame.TransactionLog": (
        "ValidationError: at: required column is missing (got None)"
    ),
    "crmcore.columnar.frame.TransactionLog.from_csv": (
        "FileNotFoundError: [Errno 2] No such file or directory: 'web_form'"
    ),
    "crmcore.columnar.frame.TransactionLog.from_pandas": (
        "no valid value for df: <class 'inspect._empty'>"
    ),
    "crmcore.columnar.table.Frame": (
        "TypeError: Frame has no schema: use CustomerFrame, TransactionLog, ..."
    ),
    "crmcore.columnar.table.Frame.from_csv": (
        "TypeError: Frame has no schema: use CustomerFrame, TransactionLog, ..."
    ),
    "crmcore.columnar.table.Frame.from_pandas": ("no valid value for df: <class 'inspect._empty'>"),
    "crmcore.columnar.table.Frame.from_records": (
        "TypeError: Frame has no schema: use CustomerFrame, TransactionLog, ..."
    ),
    "crmcore.engines.duckdb.clv_relation": (
        "no valid value for summary: Frame | duckdb.DuckDBPyRelation | str | os.PathLike[str] | Sequence[str | os.PathLike[str]]"
    ),
    "crmcore.engines.duckdb.customer_lifetime_value": (
        "no valid value for summary: Frame | duckdb.DuckDBPyRelation | str | os.PathLike[str] | Sequence[str | os.PathLike[str]]"
    ),
    "crmcore.engines.duckdb.fit_clv_models": (
        "no valid value for summary: Frame | duckdb.DuckDBPyRelation | str | os.PathLike[str] | Sequence[str | os.PathLike[str]]"
    ),
    "crmcore.engines.duckdb.funnel_relation": (
        "ValidationError: kind: is a required column of log, missing (columns: amount, at, category, channel, crm_row, currency, customer_id, items, order_id, quantity, unit_price) (got"
    ),
    "crmcore.engines.duckdb.funnel_report": (
        "ValidationError: kind: is a required column of log, missing (columns: amount, at, category, channel, crm_row, currency, customer_id, items, order_id, quantity, unit_price) (got"
    ),
    "crmcore.engines.duckdb.segment_members": (
        "no valid value for customers: Frame | duckdb.DuckDBPyRelation | str | os.PathLike[str] | Sequence[str | os.PathLike[str]]"
    ),
    "crmcore.engines.duckdb.segment_relation": (
        "no valid value for customers: Frame | duckdb.DuckDBPyRelation | str | os.PathLike[str] | Sequence[str | os.PathLike[str]]"
    ),
    "crmcore.feedback.breakdowns.MetricBreakdown.row": (
        "ValidationError: key: is not a group of this breakdown by channel (got 'k-1')"
    ),
    "crmcore.feedback.breakdowns.breakdown": (
        "ValidationError: scores[0]: must lie in 1..5 on the csat scale (got 9)"
    ),
    "crmcore.feedback.breakdowns.trend": (
        "ValidationError: scores[0]: must lie in 1..5 on the csat scale (got 9)"
    ),
    "crmcore.feedback.calendar.BusinessCalendar.from_hours": (
        "ValidationError: hours: unknown weekday 'k'; use mon..sun or mon-fri (got 'k-1')"
    ),
    "crmcore.feedback.calendar.Shift.parse": ("no valid value for value: <class 'object'>"),
    "crmcore.feedback.case_changes.CaseChange": (
        "ValidationError: assignment: an assign change needs an Assignment (got None)"
    ),
    "crmcore.feedback.case_machine.CaseTransition.allows": (
        "no valid value for ctx: <class 'crmcore.feedback.case_machine.GuardContext'>"
    ),
    "crmcore.feedback.case_machine.GuardContext": (
        "no valid value for history: tuple[crmcore.feedback.case_changes.CaseChange, ...]"
    ),
    "crmcore.feedback.cases.Case.close": (
        "IllegalTransitionError: cannot go from new on 'close': no such move (allowed: assign, acknowledge)"
    ),
    "crmcore.feedback.cases.Case.customer_replied": (
        "IllegalTransitionError: cannot go from new on 'customer_replied': no such move (allowed: assign, acknowledge)"
    ),
    "crmcore.feedback.cases.Case.fire": (
        "ValidationError: assignment: an assign change needs an Assignment (got None)"
    ),
    "crmcore.feedback.cases.Case.follow_up": (
        "IllegalTransitionError: cannot go from new on 'follow_up': no such move (allowed: assign, acknowledge)"
    ),
    "crmcore.feedback.cases.Case.reopen": (
        "IllegalTransitionError: cannot go from new on 'reopen': no such move (allowed: assign, acknowledge)"
    ),
    "crmcore.feedback.cases.Case.resolve": (
        "IllegalTransitionError: cannot go from new on 'resolve': no such move (allowed: assign, acknowledge)"
    ),
    "crmcore.feedback.cases.Case.start": (
        "IllegalTransitionError: cannot go from new on 'start': no such move (allowed: assign, acknowledge)"
    ),
    "crmcore.feedback.cases.Case.wait_on_customer": (
        "IllegalTransitionError: cannot go from new on 'wait_on_customer': no such move (allowed: assign, acknowledge)"
    ),
    "crmcore.feedback.feedback_metrics.feedback_score": (
        "ValidationError: scores: csat needs at least one answer (got [])"
    ),
    "crmcore.feedback.grouping.period_codes": (
        "ValidationError: at: must be aware datetimes or a datetime64 array (got datetime.datetime(2024, 3, 1, 9, 0, tzinfo=datetime.timezone.utc))"
    ),
    "crmcore.feedback.improvement.ImprovementAction.complete": (
        "IllegalTransitionError: cannot go from planned on 'complete': no such move (allowed: start, drop)"
    ),
    "crmcore.feedback.improvement_effect.measure_effect": (
        "ValidationError: at: action 'x-1' is planned: pass at= explicitly (got None)"
    ),
    "crmcore.feedback.needs.NeedRule": (
        "ValidationError: rule: needs at least one of themes, keywords or kinds (got 'x1')"
    ),
    "crmcore.feedback.needs.NeedRule.matches": ("no instance of NeedRule"),
    "crmcore.feedback.needs.classify_needs": (
        "ValidationError: rules[0]: must be a NeedRule (got Compare(operand=Field(name='age'), operator='>', value=Literal(value=30)))"
    ),
    "crmcore.feedback.needs.classify_needs_log": (
        "ValidationError: rules[0]: must be a NeedRule (got Compare(operand=Field(name='age'), operator='>', value=Literal(value=30)))"
    ),
    "crmcore.feedback.needs.needs_backlog": (
        "ValidationError: rules[0]: must be a NeedRule (got Compare(operand=Field(name='age'), operator='>', value=Literal(value=30)))"
    ),
    "crmcore.feedback.rates.sla_attainment": (
        "ValidationError: met: must be a sequence of booleans (got 'x1')"
    ),
    "crmcore.feedback.rules.CaseRule": (
        "ValidationError: rule: needs at least one condition (got 'ann')"
    ),
    "crmcore.feedback.rules.CaseRule.matches": ("no instance of CaseRule"),
    "crmcore.feedback.rules.CaseRules": (
        "ValidationError: rules[0]: must be a CaseRule (got Compare(operand=Field(name='age'), operator='>', value=Literal(value=30)))"
    ),
    "crmcore.feedback.rules.CaseRules.matching": ("no instance of CaseRules"),
    "crmcore.feedback.survey_scores.ces": (
        "ValidationError: scores[0]: must lie in 1..7 on the ces scale (got 9)"
    ),
    "crmcore.feedback.survey_scores.csat": (
        "ValidationError: scores[0]: must lie in 1..5 on the csat scale (got 9)"
    ),
    "crmcore.feedback.survey_scores.score": (
        "ValidationError: scores[0]: must lie in 1..5 on the csat scale (got 9)"
    ),
    "crmcore.feedback.themes.ThemeReport.row": ("NotFoundError: theme 'delivery' not found"),
    "crmcore.funnel._report.FunnelCustomers": (
        "no valid value for reached: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.funnel._report.FunnelCustomers.dropped_after": ("no instance of FunnelCustomers"),
    "crmcore.funnel.analytics.funnel_breakdown": (
        "ValidationError: by: pass exactly one of by=<column>, segments={name: mask} or cohort=... (got [])"
    ),
    "crmcore.funnel.analytics.funnel_customers": (
        "ValidationError: steps: a funnel needs at least 2 steps (got (<Stage.AWARENESS: 1>,))"
    ),
    "crmcore.funnel.analytics.funnel_report": (
        "ValidationError: steps: a funnel needs at least 2 steps (got (<Stage.AWARENESS: 1>,))"
    ),
    "crmcore.funnel.analytics.funnel_report_from_positions": (
        "no valid value for positions: collections.abc.Iterable[crmcore.funnel.analytics.PositionLike]"
    ),
    "crmcore.funnel.analytics.funnel_report_python": (
        "ValidationError: steps: a funnel needs at least 2 steps (got (<Stage.AWARENESS: 1>,))"
    ),
    "crmcore.funnel.position.normalize_reason": ("no valid value for value: <class 'object'>"),
    "crmcore.kernel.events.Outcome.then": ("no instance of Outcome"),
    "crmcore.lifecycle.policy_batch.BatchClassification": (
        "ValidationError: arrays: must be exactly ['customer_ids', 'first_purchase_at', 'frequency_current', 'frequency_previous', 'last_purchase_at', 'purchases', 'reason_bits', 'recenc"
    ),
    "crmcore.lifecycle.policy_batch.BatchClassification.index_of": (
        "NotFoundError: customer 'c-1' not found"
    ),
    "crmcore.lifecycle.record.Lifecycle.fire": (
        "IllegalTransitionError: cannot go from prospect to new on 'first_purchase': guard 'first_purchase_recent' (the first purchase lies within the new-customer window) needs one of the reas"
    ),
    "crmcore.lifecycle.record.reclassify": (
        "ValidationError: classification.customer_id: is not the record's customer 'x-1' (got 'c-1')"
    ),
    "crmcore.lifecycle.transitions_batch.BatchTransitions": (
        "no valid value for positions: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.loyalty.expiry.program_zone": (
        "ValidationError: timezone: is not an IANA time zone name (got 'Ann')"
    ),
    "crmcore.loyalty.ledger.LoyaltyAccount.adjust": (
        "ValidationError: at: is 1:00:00 before the account's latest entry (2024-03-01T10:00:00+00:00), more than the program's out-of-order tolerance (0:05:00); post it at a later time,"
    ),
    "crmcore.loyalty.ledger.LoyaltyAccount.award": (
        "ValidationError: at: is 1:00:00 before the account's latest entry (2024-03-01T10:00:00+00:00), more than the program's out-of-order tolerance (0:05:00); post it at a later time,"
    ),
    "crmcore.loyalty.ledger.LoyaltyAccount.earn": (
        "ValidationError: at: is 1:00:00 before the account's latest entry (2024-03-01T10:00:00+00:00), more than the program's out-of-order tolerance (0:05:00); post it at a later time,"
    ),
    "crmcore.loyalty.ledger.LoyaltyAccount.earn_entry_for": (
        "NotFoundError: earn entry for order 'c-1' not found"
    ),
    "crmcore.loyalty.ledger.LoyaltyAccount.entry": ("NotFoundError: ledger entry 'k-1' not found"),
    "crmcore.loyalty.ledger.LoyaltyAccount.from_entries": (
        "ValidationError: entries[0].points: is not sum(moves) - debt (got 10)"
    ),
    "crmcore.loyalty.ledger.LoyaltyAccount.redeem": (
        "ValidationError: at: is 1:00:00 before the account's latest entry (2024-03-01T10:00:00+00:00), more than the program's out-of-order tolerance (0:05:00); post it at a later time,"
    ),
    "crmcore.loyalty.ledger.LoyaltyAccount.refund": (
        "NotFoundError: earn entry for order 'c-1' not found"
    ),
    "crmcore.loyalty.ledger.LoyaltyAccount.reverse": ("NotFoundError: ledger entry 'x1' not found"),
    "crmcore.loyalty.ledger.replay": (
        "ValidationError: entries[0].points: is not sum(moves) - debt (got 10)"
    ),
    "crmcore.loyalty.ledger_batch.LedgerColumns.balances": (
        "ValidationError: as_of: is before the latest entry of 'A-1' (got datetime.datetime(2024, 3, 1, 9, 0, tzinfo=datetime.timezone.utc))"
    ),
    "crmcore.loyalty.posting_batch.BatchPosting": (
        "no valid value for status: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int8]]"
    ),
    "crmcore.loyalty.posting_batch.Postings": (
        "no valid value for account: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.loyalty.posting_batch.Postings.from_rows": (
        "no valid value for rows: collections.abc.Iterable[collections.abc.Mapping[str, object]]"
    ),
    "crmcore.loyalty.posting_batch.Postings.money": ("no instance of Postings"),
    "crmcore.loyalty.posting_batch.Postings.purchase": ("no instance of Postings"),
    "crmcore.loyalty.posting_batch.Postings.tier_of": ("no instance of Postings"),
    "crmcore.loyalty.posting_batch.post_batch": (
        "no valid value for postings: <class 'crmcore.loyalty.posting_batch.Postings'>"
    ),
    "crmcore.loyalty.program.Campaign": (
        "ValidationError: campaign.ends_at: must be after starts_at (got datetime.datetime(2024, 3, 1, 9, 0, tzinfo=datetime.timezone.utc))"
    ),
    "crmcore.loyalty.program.Campaign.applies": ("no instance of Campaign"),
    "crmcore.loyalty.referrals.ReferralClaim.qualify": (
        "ValidationError: purchase.customer_id: must be the referee 'c-2' (got 'c-1')"
    ),
    "crmcore.loyalty.referrals.referral_code": ("no valid value for value: <class 'object'>"),
    "crmcore.loyalty.tier_policy.TierPolicy.index": ("NotFoundError: tier 'x1' not found"),
    "crmcore.loyalty.tier_policy.TierPolicy.multiplier": ("NotFoundError: tier 'x1' not found"),
    "crmcore.loyalty.tiers.TierStatus.evaluate": (
        "ValidationError: tier: is not a tier of policy 'status' (got 'x1')"
    ),
    "crmcore.loyalty.tiers.TierStatus.multiplier": ("NotFoundError: tier 'x1' not found"),
    "crmcore.loyalty.tiers.TierStatus.progress": (
        "ValidationError: tier: is not a tier of policy 'status' (got 'x1')"
    ),
    "crmcore.loyalty.tiers.facts_from_ledger": (
        "no valid value for account: <class 'crmcore.loyalty.tiers._QualifyingSource'>"
    ),
    "crmcore.loyalty.tiers_batch.BatchTiers": (
        "no valid value for engine: <class 'crmcore.loyalty.tiers_batch._BatchEngine'>"
    ),
    "crmcore.loyalty.tiers_batch.evaluate_batch": (
        "ValidationError: customer_codes: must be a 1-d integer array (got '<U2')"
    ),
    "crmcore.marketing.association_report.AssociationRules": (
        "no valid value for antecedents: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.marketing.association_report.AssociationRules.build": (
        "no valid value for antecedents: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.marketing.association_report.AssociationRules.rule": (
        "ValidationError: i: must be a rule number in 0..-1 (got 1)"
    ),
    "crmcore.marketing.association_report.FrequentItemsets": (
        "no valid value for itemsets: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.marketing.association_report.FrequentItemsets.build": (
        "no valid value for sets: collections.abc.Sequence[numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]]"
    ),
    "crmcore.marketing.baskets.Baskets": (
        "ValueError: invalid literal for int() with base 10: 'x1'"
    ),
    "crmcore.marketing.baskets.Baskets.basket": (
        "ValidationError: b: must be a basket number in 0..0 (got 1)"
    ),
    "crmcore.marketing.baskets.Baskets.from_codes": (
        "ValueError: invalid literal for int() with base 10: 'x1'"
    ),
    "crmcore.marketing.baskets.Baskets.from_lines": (
        "ValidationError: baskets: must be a one-dimensional sequence of strings (got 'x1')"
    ),
    "crmcore.marketing.campaign_audience.CampaignAudience.group_of": (
        "NotFoundError: audience member 'c-1' not found"
    ),
    "crmcore.marketing.campaign_audience.CampaignAudience.members": (
        "NotFoundError: campaign group 'x1' not found"
    ),
    "crmcore.marketing.campaign_results.CampaignResults.comparison": (
        "NotFoundError: campaign comparison 'x1 vs control' not found"
    ),
    "crmcore.marketing.campaign_results.CampaignResults.group": (
        "NotFoundError: campaign group 'Ann' not found"
    ),
    "crmcore.marketing.campaign_results.attribute_touches": (
        "no valid value for touch_customers: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.marketing.campaigns.Campaign.complete": (
        "IllegalTransitionError: cannot go from draft on 'complete': no such move (allowed: schedule, cancel)"
    ),
    "crmcore.marketing.campaigns.Campaign.pause": (
        "IllegalTransitionError: cannot go from draft on 'pause': no such move (allowed: schedule, cancel)"
    ),
    "crmcore.marketing.campaigns.Campaign.record_usage": (
        "ValidationError: status: usage is recorded while running (got 'draft')"
    ),
    "crmcore.marketing.campaigns.Campaign.resume": (
        "IllegalTransitionError: cannot go from draft on 'resume': no such move (allowed: schedule, cancel)"
    ),
    "crmcore.marketing.campaigns.Campaign.start": (
        "IllegalTransitionError: cannot go from draft on 'start': no such move (allowed: schedule, cancel)"
    ),
    "crmcore.marketing.care_batch.CareSchedule": (
        "no valid value for occasions: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.marketing.care_batch.CareSchedule.trigger": (
        "IndexError: index 1 is out of bounds for axis 0 with size 1"
    ),
    "crmcore.marketing.coupon_codes.check_character": (
        "ValidationError: body: has a character outside the alphabet (got 'x1')"
    ),
    "crmcore.marketing.coupon_redemption.issue_coupon": (
        "ValidationError: pool: must be the CouponPool of 'spring' (got CouponPool(id='x-1', issued=0, redemptions=0, discount_total=None, version=0))"
    ),
    "crmcore.marketing.coupon_redemption.redeem_coupon": (
        "ValidationError: pool: must be the CouponPool of 'spring' (got CouponPool(id='x-1', issued=0, redemptions=0, discount_total=None, version=0))"
    ),
    "crmcore.marketing.coupon_redemption.reverse_redemption": (
        "ValidationError: pool: must be the CouponPool of 'spring' (got CouponPool(id='x-1', issued=0, redemptions=0, discount_total=None, version=0))"
    ),
    "crmcore.marketing.coupon_wallet.CouponWallet.redemption": (
        "NotFoundError: coupon redemption 'k-1' not found"
    ),
    "crmcore.marketing.customer_facts.CustomerFacts.from_record": (
        "no valid value for record: collections.abc.Mapping[str, object]"
    ),
    "crmcore.marketing.dry_run.DryRun.who": (
        "ValidationError: workflow: is not a workflow of the dry run (got 'welcome')"
    ),
    "crmcore.marketing.engine.advance": ("NotFoundError: workflow version 'welcome@1' not found"),
    "crmcore.marketing.enrolments.Enrolment.ran": (
        "IllegalTransitionError: cannot go from waiting on 'run': no such move (allowed: resume, convert, exit)"
    ),
    "crmcore.marketing.enrolments.Enrolment.resume": (
        "IllegalTransitionError: cannot go from waiting to active on 'resume': a wait ends at its wake time, not before"
    ),
    "crmcore.marketing.enrolments.Enrolment.wait": (
        "IllegalTransitionError: cannot go from waiting on 'wait': no such move (allowed: resume, convert, exit)"
    ),
    "crmcore.marketing.experiments.Split.group_codes": (
        "ValueError: could not convert string to float: 'x1'"
    ),
    "crmcore.marketing.experiments.assignment_hashes": (
        "ValidationError: keys: must be a one-dimensional array of strings (got 'x1')"
    ),
    "crmcore.marketing.experiments.assignment_numbers": (
        "ValidationError: keys: must be a one-dimensional array of strings (got 'x1')"
    ),
    "crmcore.marketing.guardrails.QuietHours": (
        "ValidationError: quiet_hours.end: must differ from start (got datetime.time(9, 0))"
    ),
    "crmcore.marketing.guardrails.QuietHours.covers": ("no instance of QuietHours"),
    "crmcore.marketing.guardrails.QuietHours.is_quiet": ("no instance of QuietHours"),
    "crmcore.marketing.guardrails.QuietHours.release": ("no instance of QuietHours"),
    "crmcore.marketing.holidays.Holiday": (
        "ValidationError: holiday.code: must be 1-64 of a-z, 0-9 and _ (got 'ANN-2024')"
    ),
    "crmcore.marketing.holidays.Holiday.occurrences": ("no instance of Holiday"),
    "crmcore.marketing.next_best_offer.NextBestOffers": (
        "no valid value for ranks: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.marketing.next_best_offer.NextBestOffers.offer": (
        "IndexError: index 1 is out of bounds for axis 0 with size 0"
    ),
    "crmcore.marketing.steps.Branch": (
        "ValidationError: steps.x-1.otherwise: must lead elsewhere than then (got None)"
    ),
    "crmcore.marketing.steps.SetField": (
        "ValidationError: steps.name: names must be 1-40 lower-case letters, digits or _ (got 'Ann')"
    ),
    "crmcore.marketing.targeting.target_text": ("no valid value for value: <class 'object'>"),
    "crmcore.marketing.triggers.DateTrigger": (
        "ValidationError: trigger.field: must be one of birth_date, created_at, first_purchase_at, last_interaction_at, last_purchase_at, last_service_at or attr.<name> (got 'at')"
    ),
    "crmcore.marketing.triggers.DateTrigger.days": ("no instance of DateTrigger"),
    "crmcore.marketing.triggers.DateTrigger.occurrences": ("no instance of DateTrigger"),
    "crmcore.marketing.triggers.EventTrigger": (
        "ValidationError: trigger.kind: is not a registered event kind (see crmcore.kernel.events.event_kinds(); register a host kind with event_type) (got 'website_visit')"
    ),
    "crmcore.marketing.triggers.EventTrigger.matches": ("no instance of EventTrigger"),
    "crmcore.marketing.triggers.HolidayTrigger.occurrences": (
        "no valid value for record: collections.abc.Mapping[str, object]"
    ),
    "crmcore.marketing.triggers.InactivityTrigger.occurrences": (
        "no valid value for record: collections.abc.Mapping[str, object]"
    ),
    "crmcore.marketing.workflow_json.workflow_from_json": (
        "no valid value for document: <class 'object'>"
    ),
    "crmcore.marketing.workflow_json.workflow_from_json_text": (
        "ValidationError: $: is not JSON: Expecting value: line 1 column 1 (char 0) (got 'age > 30')"
    ),
    "crmcore.marketing.workflow_reports.WorkflowSummary.step": (
        "NotFoundError: step of workflow x1 'c-1' not found"
    ),
    "crmcore.marketing.workflows.Goal": (
        "ValidationError: goal: needs events, a rule or both (got Goal(events=frozenset(), rule=None))"
    ),
    "crmcore.marketing.workflows.Goal.met_by": ("no instance of Goal"),
    "crmcore.marketing.workflows.Workflow.next_of": (
        "NotFoundError: step of workflow welcome@1 'c-1' not found"
    ),
    "crmcore.marketing.workflows.Workflow.step": (
        "NotFoundError: step of workflow welcome@1 'c-1' not found"
    ),
    "crmcore.marketing.workflows.Workflow.successors": (
        "NotFoundError: step of workflow welcome@1 'c-1' not found"
    ),
    "crmcore.marketing.workflows.WorkflowCatalog.get": (
        "NotFoundError: workflow version 'welcome@1' not found"
    ),
    "crmcore.marketing.workflows.WorkflowCatalog.latest": (
        "NotFoundError: workflow 'welcome' not found"
    ),
    "crmcore.marketing.workflows.WorkflowCatalog.versions": (
        "NotFoundError: workflow 'welcome' not found"
    ),
    "crmcore.plotting.clv.plot_calibration_purchases_vs_holdout_purchases": (
        "no valid value for model: <class 'crmcore.plotting.clv.PurchaseModel'>"
    ),
    "crmcore.plotting.clv.plot_frequency_recency_matrix": (
        "no valid value for model: <class 'crmcore.plotting.clv.PurchaseModel'>"
    ),
    "crmcore.plotting.clv.plot_probability_alive_matrix": (
        "no valid value for model: <class 'crmcore.plotting.clv.PurchaseModel'>"
    ),
    "crmcore.plotting.clv.plot_purchase_model": (
        "no valid value for model: <class 'crmcore.plotting.clv.PurchaseModel'>"
    ),
    "crmcore.ports.Page": ("no valid value for items: tuple[~T, ...]"),
    "crmcore.sales.account_hierarchy.AccountHierarchy.ancestors": (
        "NotFoundError: account 'A-1' not found"
    ),
    "crmcore.sales.account_hierarchy.AccountHierarchy.children": (
        "NotFoundError: account 'A-1' not found"
    ),
    "crmcore.sales.account_hierarchy.AccountHierarchy.from_parents": (
        "ValidationError: parent_id: of 'k-1' names no known account (got 'x1')"
    ),
    "crmcore.sales.account_hierarchy.AccountHierarchy.lift_pairs": (
        "no valid value for accounts: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.sales.account_hierarchy.AccountHierarchy.position": (
        "NotFoundError: account 'A-1' not found"
    ),
    "crmcore.sales.account_hierarchy.AccountHierarchy.rollup": (
        "ValidationError: values: must be one value per account (1) (got (3,))"
    ),
    "crmcore.sales.account_hierarchy.AccountHierarchy.subtree": (
        "NotFoundError: account 'A-1' not found"
    ),
    "crmcore.sales.account_hierarchy.AccountHierarchy.subtree_mask": (
        "NotFoundError: account 'A-1' not found"
    ),
    "crmcore.sales.account_hierarchy.id_positions": ("TypeError: len() of unsized object"),
    "crmcore.sales.account_rollups.AccountRollups.row": ("NotFoundError: account 'A-1' not found"),
    "crmcore.sales.deal_risks.aged_deals": (
        "ValidationError: older_than_days: give older_than_days or in_stage_days (got None)"
    ),
    "crmcore.sales.duplicates.merge_leads": (
        "ValidationError: second: is the same lead as the first (got 'L0001')"
    ),
    "crmcore.sales.exchange_rates.ExchangeRates.convert_minor": (
        "no valid value for units: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.sales.forecast_distribution.OutcomeDistribution": (
        "no valid value for mean: <class 'fractions.Fraction'>"
    ),
    "crmcore.sales.forecast_distribution.OutcomeDistribution.quantile": (
        "no instance of OutcomeDistribution"
    ),
    "crmcore.sales.forecast_distribution.bernoulli_sum": (
        "ValueError: invalid literal for int() with base 10: 'x1'"
    ),
    "crmcore.sales.holt_winters.HoltWintersFit": (
        "no valid value for season: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.float64]]"
    ),
    "crmcore.sales.holt_winters.HoltWintersFit.forecast": ("no instance of HoltWintersFit"),
    "crmcore.sales.holt_winters.HoltWintersFit.interval": ("no instance of HoltWintersFit"),
    "crmcore.sales.holt_winters.fit_holt_winters": ("no valid value for y: <class 'object'>"),
    "crmcore.sales.holt_winters.seasonal_naive": ("no valid value for y: <class 'object'>"),
    "crmcore.sales.lead_conversion.convert_lead": (
        "IllegalTransitionError: cannot go from new on 'convert': no such move (allowed: assign, work, nurture, qualify, disqualify)"
    ),
    "crmcore.sales.lead_events.activity_completed": (
        "ValidationError: activity: is not completed (got 'x-1')"
    ),
    "crmcore.sales.leads.Lead.activity": ("NotFoundError: activity 'c-1' not found"),
    "crmcore.sales.leads.Lead.cancel_activity": ("NotFoundError: activity 'c-1' not found"),
    "crmcore.sales.leads.Lead.complete_activity": ("NotFoundError: activity 'c-1' not found"),
    "crmcore.sales.leads.Lead.mark_converted": (
        "IllegalTransitionError: cannot go from new on 'convert': no such move (allowed: assign, work, nurture, qualify, disqualify)"
    ),
    "crmcore.sales.leads.Lead.reopen": (
        "IllegalTransitionError: cannot go from new on 'reopen': no such move (allowed: assign, work, nurture, qualify, disqualify)"
    ),
    "crmcore.sales.leads.Lead.reschedule_activity": ("NotFoundError: activity 'c-1' not found"),
    "crmcore.sales.model_evaluation.brier_score": ("no valid value for won: <class 'object'>"),
    "crmcore.sales.model_evaluation.evaluate": ("no valid value for won: <class 'object'>"),
    "crmcore.sales.model_evaluation.roc_auc": ("no valid value for won: <class 'object'>"),
    "crmcore.sales.opportunities.Opportunity.lose": (
        "IllegalTransitionError: cannot go from appointment_scheduled to closed_lost on 'closed_lost': entering closed_lost needs a lost reason"
    ),
    "crmcore.sales.opportunities.Opportunity.move_to": (
        "ValidationError: stage: is not a stage of pipeline 'sales' (appointment_scheduled, qualified_to_buy, presentation_scheduled, decision_maker_bought_in, contract_sent, closed_won,"
    ),
    "crmcore.sales.opportunities.Opportunity.open": (
        "ValidationError: amount: is required (or line items to sum) (got None)"
    ),
    "crmcore.sales.opportunities.Opportunity.reopen": (
        "IllegalTransitionError: cannot go from appointment_scheduled: the opportunity is not closed"
    ),
    "crmcore.sales.opportunities.Opportunity.set_probability": (
        "ValidationError: probability: must lie in [0, 1] (got Decimal('1.5'))"
    ),
    "crmcore.sales.opportunity_changes.StageChange": (
        "ValidationError: to_state: a stage move changes the stage (got 'x1')"
    ),
    "crmcore.sales.opportunity_changes.reason_code": ("no valid value for value: <class 'object'>"),
    "crmcore.sales.opportunity_frame.OpportunityFrame.filter": (
        "ValidationError: mask: must be 1 booleans (got ())"
    ),
    "crmcore.sales.opportunity_frame.OpportunityFrame.from_arrays": (
        "ValidationError: stage: must be one value per row (3) (got ())"
    ),
    "crmcore.sales.opportunity_frame.OpportunityFrame.labels": (
        "ValidationError: by: must be owner, source, segment, account or stage (got 'x1')"
    ),
    "crmcore.sales.opportunity_frame.Revisions": (
        "no valid value for row: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.sales.opportunity_frame.Revisions.take": ("no instance of Revisions"),
    "crmcore.sales.opportunity_frame.StageMoves": (
        "no valid value for row: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.sales.opportunity_frame.StageMoves.take": ("no instance of StageMoves"),
    "crmcore.sales.pipeline.Pipeline.next_open_stage": (
        "ValidationError: stage: is not a stage of pipeline 'sales' (appointment_scheduled, qualified_to_buy, presentation_scheduled, decision_maker_bought_in, contract_sent, closed_won,"
    ),
    "crmcore.sales.pipeline.Pipeline.open_rank": (
        "ValidationError: stage: is not a stage of pipeline 'sales' (appointment_scheduled, qualified_to_buy, presentation_scheduled, decision_maker_bought_in, contract_sent, closed_won,"
    ),
    "crmcore.sales.pipeline.Pipeline.order": (
        "ValidationError: stage: is not a stage of pipeline 'sales' (appointment_scheduled, qualified_to_buy, presentation_scheduled, decision_maker_bought_in, contract_sent, closed_won,"
    ),
    "crmcore.sales.pipeline.Pipeline.stage": (
        "ValidationError: stage: is not a stage of pipeline 'sales' (appointment_scheduled, qualified_to_buy, presentation_scheduled, decision_maker_bought_in, contract_sent, closed_won,"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine": (
        "no valid value for transitions: collections.abc.Sequence[crmcore.sales.pipeline_machine.PipelineTransition]"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.choose": (
        "no valid value for rows: collections.abc.Sequence[~R]"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.fire": ("no valid value for state: ~S"),
    "crmcore.sales.pipeline_machine.PipelineMachine.move": ("no valid value for state: ~S"),
    "crmcore.sales.pipeline_machine.PipelineMachine.reaching": ("no valid value for state: ~S"),
    "crmcore.sales.pipeline_machine.PipelineMachine.row_between": (
        "ValueError: 'x1' is not a valid Ann_stages"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.rows_of": (
        "no valid value for sources: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[typing.Any]]"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.rows_on": ("no valid value for trigger: ~T"),
    "crmcore.sales.pipeline_machine.PipelineMachine.stage_of": (
        "ValueError: 'k-1' is not a valid Ann_stages"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.state_code": ("no valid value for state: ~S"),
    "crmcore.sales.pipeline_machine.PipelineMachine.targets": (
        "no valid value for states: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[typing.Any]]"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.trigger_code": (
        "no valid value for trigger: ~T"
    ),
    "crmcore.sales.pipeline_machine.PipelineMachine.triggered": ("no valid value for state: ~S"),
    "crmcore.sales.pipeline_machine.PipelineTransition": (
        "no valid value for source: <enum 'StrEnum'>"
    ),
    "crmcore.sales.pipeline_reports.PipelineReport.stage": (
        "NotFoundError: open stage 'k-1' not found"
    ),
    "crmcore.sales.pipeline_stages.probability": ("no valid value for value: <class 'object'>"),
    "crmcore.sales.predictive.LogisticModel.explain": (
        "no valid value for record: collections.abc.Mapping[str, object]"
    ),
    "crmcore.sales.predictive.LogisticModel.fit": ("no valid value for won: <class 'object'>"),
    "crmcore.sales.predictive.LogisticModel.log_odds": (
        "ValidationError: features: is not a column of the frame (got 'Ann')"
    ),
    "crmcore.sales.predictive.LogisticModel.predict_one": (
        "no valid value for record: collections.abc.Mapping[str, object]"
    ),
    "crmcore.sales.predictive.LogisticModel.predict_proba": (
        "ValidationError: features: is not a column of the frame (got 'Ann')"
    ),
    "crmcore.sales.predictive.NaiveBayesModel.explain": (
        "no valid value for record: collections.abc.Mapping[str, object]"
    ),
    "crmcore.sales.predictive.NaiveBayesModel.fit": ("no valid value for won: <class 'object'>"),
    "crmcore.sales.predictive.NaiveBayesModel.log_odds": (
        "ValidationError: features: is not a column of the frame (got 'Ann')"
    ),
    "crmcore.sales.predictive.NaiveBayesModel.predict_one": (
        "no valid value for record: collections.abc.Mapping[str, object]"
    ),
    "crmcore.sales.predictive.NaiveBayesModel.predict_proba": (
        "ValidationError: features: is not a column of the frame (got 'Ann')"
    ),
    "crmcore.sales.predictive_features.CategoricalFeature.code_of": (
        "no valid value for value: <class 'object'>"
    ),
    "crmcore.sales.predictive_features.CategoricalFeature.codes": (
        "no valid value for column: <class 'crmcore.sales.predictive_features.FeatureColumn'>"
    ),
    "crmcore.sales.predictive_features.CategoricalFeature.learn": (
        "no valid value for column: <class 'crmcore.sales.predictive_features.FeatureColumn'>"
    ),
    "crmcore.sales.predictive_features.NumericFeature.code_of": (
        "no valid value for value: <class 'object'>"
    ),
    "crmcore.sales.predictive_features.NumericFeature.codes": (
        "no valid value for column: <class 'crmcore.sales.predictive_features.FeatureColumn'>"
    ),
    "crmcore.sales.predictive_features.NumericFeature.learn": (
        "no valid value for column: <class 'crmcore.sales.predictive_features.FeatureColumn'>"
    ),
    "crmcore.sales.predictive_features.NumericFeature.standardized": (
        "no valid value for column: <class 'crmcore.sales.predictive_features.FeatureColumn'>"
    ),
    "crmcore.sales.predictive_features.NumericFeature.standardized_one": (
        "no valid value for value: <class 'object'>"
    ),
    "crmcore.sales.relationship_graph.RelationshipGraph.household": (
        "NotFoundError: customer in the graph 'c-1' not found"
    ),
    "crmcore.sales.relationship_graph.RelationshipGraph.neighbours": (
        "NotFoundError: customer in the graph 'x-1' not found"
    ),
    "crmcore.sales.relationship_graph.RelationshipGraph.referral_tree": (
        "NotFoundError: customer in the graph 'c-1' not found"
    ),
    "crmcore.sales.relationship_reports.ReferralTree": (
        "no valid value for depths: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.sales.relationships.Relationship.between": (
        "ValidationError: kind: must be same_household or colleague (got 'referred')"
    ),
    "crmcore.sales.relationships.Relationship.ended": (
        "ValidationError: until: must be after since (got datetime.datetime(2024, 3, 1, 9, 0, tzinfo=datetime.timezone.utc))"
    ),
    "crmcore.sales.relationships.Relationship.partner": (
        "ValidationError: target: a relationship joins two different parties (got 'x1')"
    ),
    "crmcore.sales.revenue_forecast.Backtest": (
        "no valid value for actual: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.float64]]"
    ),
    "crmcore.sales.revenue_forecast.RevenueForecast": (
        "no valid value for history: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.float64]]"
    ),
    "crmcore.sales.revenue_forecast.revenue_forecast": (
        "ValidationError: log: needs at least 30 complete months of history for holt_winters with a 6-period backtest (got 15)"
    ),
    "crmcore.sales.scoring.LeadScoring": (
        "ValidationError: fit: a scoring needs at least one rule (got ())"
    ),
    "crmcore.sales.scoring.LeadScoring.finish": ("no instance of LeadScoring"),
    "crmcore.sales.scoring.LeadScoring.from_json": ("no valid value for data: <class 'object'>"),
    "crmcore.sales.scoring.LeadScoring.from_json_text": (
        "ValidationError: scoring: is not JSON: Expecting value: line 1 column 1 (char 0) (got 'age > 30')"
    ),
    "crmcore.sales.scoring.LeadScoring.score": ("no instance of LeadScoring"),
    "crmcore.sales.scoring.LeadScoring.to_json_text": ("no instance of LeadScoring"),
    "crmcore.sales.scoring_batch.EngagementIndex.from_arrays": (
        "no valid value for rows: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[typing.Any]]"
    ),
    "crmcore.sales.scoring_batch.ScoreTable": (
        "no valid value for scoring: <class 'crmcore.sales.scoring.LeadScoring'>"
    ),
    "crmcore.sales.scoring_batch.ScoreTable.row_of": ("no instance of ScoreTable"),
    "crmcore.sales.scoring_batch.ScoreTable.score_of": ("no instance of ScoreTable"),
    "crmcore.sales.scoring_batch.ScoreTable.top": ("no instance of ScoreTable"),
    "crmcore.sales.scoring_batch.score_frame": (
        "no valid value for scoring: <class 'crmcore.sales.scoring.LeadScoring'>"
    ),
    "crmcore.sales.scoring_rules.Decay.weights": (
        "no valid value for age_us: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.int64]]"
    ),
    "crmcore.sales.scoring_rules.EngagementRule.from_json": (
        "no valid value for data: collections.abc.Mapping[str, typing.Any]"
    ),
    "crmcore.sales.scoring_rules.FitRule.from_json": (
        "no valid value for data: collections.abc.Mapping[str, typing.Any]"
    ),
    "crmcore.sales.scoring_rules.ScoreBands.codes": (
        "no valid value for totals: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.float64]]"
    ),
    "crmcore.sales.scoring_rules.ScoreBands.from_json": (
        "no valid value for data: collections.abc.Iterable[collections.abc.Mapping[str, typing.Any]]"
    ),
    "crmcore.sales.scoring_rules.Threshold.met_all": (
        "no valid value for fit: numpy.ndarray[tuple[typing.Any, ...], numpy.dtype[numpy.float64]]"
    ),
    "crmcore.sales.snapshots.PipelineSnapshot.coverage": (
        "AttributeError: 'Stage' object has no attribute 'amount'"
    ),
    "crmcore.sales.snapshots.PipelineSnapshot.line": (
        "AttributeError: 'Stage' object has no attribute 'stage'"
    ),
    "crmcore.segments.positions.SourceMap": (
        "no valid value for root: <class 'crmcore.segments.positions.Span'>"
    ),
    "crmcore.segments.tokenizer.Token": ("no valid value for value: <class 'inspect._empty'>"),
    "crmcore.services.coupons.reverse_coupon_redemption": (
        "NotFoundError: coupon redemption 'x1' not found"
    ),
    "crmcore.services.feedback.act_on_case": (
        "no valid value for operation: collections.abc.Callable[[crmcore.feedback.cases.Case], crmcore.kernel.events.Outcome[crmcore.feedback.cases.Case]]"
    ),
    "crmcore.services.feedback.add_improvement_action": (
        "no valid value for planned: crmcore.kernel.events.Outcome[crmcore.feedback.improvement.ImprovementAction]"
    ),
    "crmcore.services.feedback.change_improvement_action": (
        "no valid value for operation: collections.abc.Callable[[crmcore.feedback.improvement.ImprovementAction], crmcore.kernel.events.Outcome[crmcore.feedback.improvement.ImprovementAction]]"
    ),
    "crmcore.services.loyalty.qualify_referral": (
        "NotFoundError: loyalty_referral_claim 'rc-66d16053af870c9fcd766f7b323992d46937ee64' not found"
    ),
    "crmcore.services.marketing.enrol": ("NotFoundError: customer facts 'c-3' not found"),
    "crmcore.services.marketing.launch_campaign": ("NotFoundError: campaign 'c-1' not found"),
    "crmcore.services.sales.change_lead": (
        "ValidationError: at: must be a timezone-aware datetime (got 'rep-2')"
    ),
    "crmcore.services.sales.complete_activity": ("NotFoundError: activity 'c-1' not found"),
    "crmcore.services.sales.convert_lead": (
        "IllegalTransitionError: cannot go from new on 'convert': no such move (allowed: assign, work, nurture, qualify, disqualify)"
    ),
    "crmcore.services.sales.qualify_lead": (
        "IllegalTransitionError: cannot go from new to qualified on 'qualify': a lead is qualified only when it can be reached: an e-mail address, a phone number or a known customer"
    ),
    "crmcore.services.sales_accounts.change_sales_account": (
        "no valid value for change: collections.abc.Callable[[crmcore.sales.accounts.Account], crmcore.kernel.events.Outcome[crmcore.sales.accounts.Account]]"
    ),
    "crmcore.services.sales_accounts.end_relationship": (
        "NotFoundError: relationship 'referred customer:web_form customer:x1' not found"
    ),
    "crmcore.services.sales_accounts.open_sales_account": (
        "no valid value for outcome: crmcore.kernel.events.Outcome[crmcore.sales.accounts.Account]"
    ),
    "crmcore.services.sales_accounts.set_account_parent": (
        "NotFoundError: sales_account 'A-1' not found"
    ),
    "crmcore.storage.backend.AggregateWrite": ("no valid value for aggregate: typing.Any"),
    "crmcore.storage.backend.RecordWrite": ("no valid value for record: typing.Any"),
    "crmcore.storage.kinds.AggregateKind": ("no valid value for cls: type[~A]"),
    "crmcore.storage.kinds.AggregateKind.decode": ("no instance of AggregateKind"),
    "crmcore.storage.kinds.AggregateKind.encode": ("no instance of AggregateKind"),
    "crmcore.storage.kinds.AggregateKind.has_index": ("no instance of AggregateKind"),
    "crmcore.storage.kinds.AggregateKind.id_of": ("no instance of AggregateKind"),
    "crmcore.storage.kinds.AggregateKind.index_values_of": ("no instance of AggregateKind"),
    "crmcore.storage.kinds.AggregateKind.keys_of": ("no instance of AggregateKind"),
    "crmcore.storage.kinds.AggregateKind.version_of": ("no instance of AggregateKind"),
    "crmcore.storage.kinds.AggregateKind.with_version": ("no instance of AggregateKind"),
    "crmcore.storage.kinds.RecordKind": ("no valid value for cls: type[~R]"),
    "crmcore.storage.kinds.RecordKind.at_of": ("no instance of RecordKind"),
    "crmcore.storage.kinds.RecordKind.decode": ("no instance of RecordKind"),
    "crmcore.storage.kinds.RecordKind.encode": ("no instance of RecordKind"),
    "crmcore.storage.kinds.RecordKind.id_of": ("no instance of RecordKind"),
    "crmcore.storage.kinds.RecordKind.owner_of": ("no instance of RecordKind"),
    "crmcore.storage.outbox.relay": ("no valid value for outbox: <class 'crmcore.ports.Outbox'>"),
    "crmcore.storage.postgres.store.PostgresStore": (
        "ValidationError: target: must be a PostgreSQL connection string or a psycopg ConnectionPool (got PosixPath('sweep-output.csv'))"
    ),
    "crmcore.storage.postgres.store.PostgresStore.segment_members": (
        "no instance of PostgresStore"
    ),
    "crmcore.storage.repositories.BufferedRecordRepository.add": ("no valid value for record: ~R"),
    "crmcore.storage.repositories.BufferedRecordRepository.find": (
        "AttributeError: 'str' object has no attribute 'name'"
    ),
    "crmcore.storage.repositories.BufferedRecordRepository.for_customer": (
        "AttributeError: 'str' object has no attribute 'name'"
    ),
    "crmcore.storage.repositories.BufferedRecordRepository.get": (
        "AttributeError: 'str' object has no attribute 'name'"
    ),
    "crmcore.storage.repositories.BufferedRecordRepository.redact": (
        "AttributeError: 'str' object has no attribute 'redact'"
    ),
    "crmcore.storage.repositories.BufferedRepository.add": ("no valid value for aggregate: ~A"),
    "crmcore.storage.repositories.BufferedRepository.find": (
        "AttributeError: 'str' object has no attribute 'name'"
    ),
    "crmcore.storage.repositories.BufferedRepository.find_many": (
        "AttributeError: 'str' object has no attribute 'name'"
    ),
    "crmcore.storage.repositories.BufferedRepository.get": (
        "AttributeError: 'str' object has no attribute 'name'"
    ),
    "crmcore.storage.repositories.BufferedRepository.list": (
        "AttributeError: 'str' object has no attribute 'name'"
    ),
    "crmcore.storage.repositories.BufferedRepository.save": ("no valid value for aggregate: ~A"),
    "crmcore.storage.unit_of_work.BufferedUnitOfWork": (
        "no valid value for backend: <class 'crmcore.storage.backend.Backend'>"
    ),
    "crmcore.storage.unit_of_work.BufferedUnitOfWork.take": (
        "no valid value for outcome: crmcore.kernel.events.Outcome[~T]"
    ),
}
