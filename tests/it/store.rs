//! The store's typed operations and the schema's constraints, on SQLite and PostgreSQL alike.

use chrono::{DateTime, Duration, Utc};
use oneonone::store::{
    AccountState, ItemSource, NewAccount, NewRevision, OccurrenceState, Provider, RunOutcome,
    RunStats, SeriesOverride, SeriesUpsert, Store, StoreError,
};

use crate::fixtures::{TestDb, t};

fn caldav_account(name: &str) -> NewAccount {
    NewAccount {
        provider: Provider::Caldav,
        display_name: name.into(),
        settings: serde_json::json!({"url": "http://127.0.0.1:5232/", "username": name}),
        credentials: Some(vec![1, 2, 3]),
        calendars: vec![(
            "/alice/work/".into(),
            "Work".into(),
            Some("Europe/Berlin".into()),
        )],
        writing_started_at: None,
    }
}

async fn series(store: &Store, calendar_id: i64, uid: &str) -> oneonone::store::SeriesRow {
    store
        .upsert_series(
            &SeriesUpsert {
                calendar_id,
                uid: uid.into(),
                summary: "1:1 Alice / Sam".into(),
                manager_email: Some("sam@example.com".into()),
                direct_email: Some("alice@example.com".into()),
                direct_name: Some("Alice".into()),
                one_on_one: true,
                owner_is_organizer: true,
                confidence: 0.9,
                detection_reason: "weekly, 2 people".into(),
                cadence: None,
            },
            t("2026-11-01T00:00:00Z"),
        )
        .await
        .unwrap()
}

/// An account for alice with its one calendar: (account id, calendar id).
async fn account_with_calendar(store: &Store, now: DateTime<Utc>) -> (i64, i64) {
    let id = store
        .insert_account(&caldav_account("alice"), now)
        .await
        .unwrap();
    (id, store.list_calendars(id).await.unwrap()[0].id)
}

/// Raw SQL against the test database, to prove the schema itself refuses bad rows.
async fn raw_exec(db: &TestDb, sql: &str) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let sql = sqlx::AssertSqlSafe(sql.to_string());
    if db.kind == "sqlite" {
        let mut c = sqlx::SqliteConnection::connect(&db.url).await?;
        sqlx::query("PRAGMA foreign_keys = ON")
            .execute(&mut c)
            .await?;
        sqlx::query(sql).execute(&mut c).await.map(|_| ())
    } else {
        let mut c = sqlx::PgConnection::connect(&db.url).await?;
        sqlx::query(sql).execute(&mut c).await.map(|_| ())
    }
}

#[tokio::test]
async fn accounts_with_calendars_are_stored_listed_and_removed_with_everything_below() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-11-02T09:00:00Z");
        let id = store
            .insert_account(&caldav_account("alice"), now)
            .await
            .unwrap();
        let accounts = store.list_accounts().await.unwrap();
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0].provider, Provider::Caldav);
        assert_eq!(accounts[0].state, AccountState::Active);
        assert_eq!(accounts[0].settings["username"], "alice");
        let cals = store.list_calendars(id).await.unwrap();
        assert_eq!(cals.len(), 1);
        assert_eq!(cals[0].timezone.as_deref(), Some("Europe/Berlin"));

        let s = series(&store, cals[0].id, "uid-1").await;
        store
            .add_item(s.id, "action", "Send the plan", ItemSource::Cli, None, now)
            .await
            .unwrap();

        store.purge_account(id).await.unwrap();
        assert!(store.list_accounts().await.unwrap().is_empty());
        assert!(
            store.list_series().await.unwrap().is_empty(),
            "{}: series not cascaded",
            db.kind
        );
        assert!(matches!(
            store.purge_account(id).await,
            Err(StoreError::NotFound { .. })
        ));
        store.close().await;
    }
}

/// `accounts remove` archives: the account is no longer claimed, its credentials, cached events
/// and sync cursors go, and its series, items and meetings stay; connecting it again brings it
/// back waiting to be started, with a calendar picked then added; only a purge deletes.
#[tokio::test]
async fn a_removed_account_keeps_its_history_and_comes_back_when_connected_again() {
    for db in TestDb::all().await {
        let kind = db.kind;
        let store = db.store().await;
        let now = t("2026-11-02T09:00:00Z");
        let (id, cal) = account_with_calendar(&store, now).await;
        store.start_writing(Some(&[id]), now).await.unwrap();
        let s = series(&store, cal, "uid-1").await;
        let item = store
            .add_item(s.id, "action", "Send the plan", ItemSource::Cli, None, now)
            .await
            .unwrap();
        let event = oneonone::store::CachedEvent {
            remote_id: "/alice/work/1.ics".into(),
            uid: "uid-1".into(),
            etag: Some("\"1\"".into()),
            payload_hash: "h".into(),
            summary: None,
            start_at: None,
            status: "confirmed".into(),
            raw: String::new(),
        };
        store.upsert_events(cal, vec![event], now).await.unwrap();
        store
            .set_calendar_cursor(cal, Some("token-1"), None, Some(now))
            .await
            .unwrap();

        let later = now + Duration::hours(1);
        assert!(store.archive_account(id, later).await.unwrap(), "{kind}");
        assert!(
            !store.archive_account(id, later).await.unwrap(),
            "{kind}: twice"
        );
        let a = store.get_account(id).await.unwrap();
        assert_eq!(a.archived_at, Some(later), "{kind}");
        assert_eq!(a.credentials, None, "{kind}");
        assert_eq!(a.state, AccountState::Disabled, "{kind}");
        let claimed = store
            .claim_due_accounts(
                "d1",
                later + Duration::days(1),
                later + Duration::days(2),
                10,
            )
            .await
            .unwrap();
        assert!(claimed.is_empty(), "{kind}: a removed account was claimed");
        assert_eq!(store.count_events(cal).await.unwrap(), 0, "{kind}");
        assert_eq!(
            store.get_calendar(cal).await.unwrap().sync_token,
            None,
            "{kind}"
        );
        assert_eq!(store.list_series().await.unwrap().len(), 1, "{kind}");
        let items = store.list_items(s.id, false).await.unwrap();
        assert_eq!(
            items.iter().map(|i| i.id).collect::<Vec<_>>(),
            [item],
            "{kind}"
        );

        let again = oneonone::store::Reconnect {
            credentials: &[9, 9],
            settings: None,
            calendars: &[("/alice/home/".into(), "Home".into(), None)],
        };
        store.reconnect_account(id, &again, later).await.unwrap();
        let a = store.get_account(id).await.unwrap();
        assert_eq!(
            (a.state, a.archived_at, a.credentials.as_deref()),
            (AccountState::Active, None, Some(&[9u8, 9][..])),
            "{kind}"
        );
        assert!(
            a.writing_started_at.is_none(),
            "{kind}: back from removal, it previews first"
        );
        assert_eq!(store.list_calendars(id).await.unwrap().len(), 2, "{kind}");
        assert_eq!(store.list_series().await.unwrap()[0].id, s.id, "{kind}");
        store.close().await;
    }
}

#[tokio::test]
async fn a_lease_gives_an_account_to_one_daemon_until_it_expires_or_is_released() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-11-02T09:00:00Z");
        let id = store
            .insert_account(&caldav_account("alice"), now)
            .await
            .unwrap();
        let until = now + Duration::seconds(60);

        let a = store
            .claim_due_accounts("daemon-a", now, until, 10)
            .await
            .unwrap();
        assert_eq!(a.iter().map(|x| x.id).collect::<Vec<_>>(), vec![id]);
        let b = store
            .claim_due_accounts("daemon-b", now, until, 10)
            .await
            .unwrap();
        assert!(b.is_empty(), "{}: two daemons hold one account", db.kind);

        // After expiry another daemon takes over.
        let later = until + Duration::seconds(1);
        let b = store
            .claim_due_accounts("daemon-b", later, later + Duration::seconds(60), 10)
            .await
            .unwrap();
        assert_eq!(b.len(), 1, "{}", db.kind);

        // Released at shutdown: free at once.
        assert_eq!(store.release_leases("daemon-b").await.unwrap(), 1);
        let a = store
            .claim_due_accounts("daemon-a", later, later + Duration::seconds(60), 10)
            .await
            .unwrap();
        assert_eq!(a.len(), 1, "{}", db.kind);
        store.close().await;
    }
}

#[tokio::test]
async fn success_and_failure_schedule_the_account_and_keep_the_error_kind() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-11-02T09:00:00Z");
        let id = store
            .insert_account(&caldav_account("alice"), now)
            .await
            .unwrap();
        let next = now + Duration::seconds(120);
        store
            .record_account_failure(id, now, next, "timeout", "no answer in 30 s", "d")
            .await
            .unwrap();
        let a = store.get_account(id).await.unwrap();
        assert_eq!(a.consecutive_failures, 1);
        assert_eq!(a.last_error_kind.as_deref(), Some("timeout"));
        assert_eq!(a.next_due_at, Some(next));
        // Not due before `next`.
        assert!(
            store
                .claim_due_accounts("d", now, now + Duration::seconds(60), 5)
                .await
                .unwrap()
                .is_empty()
        );
        store
            .record_account_success(id, next, next + Duration::seconds(60), "d")
            .await
            .unwrap();
        let a = store.get_account(id).await.unwrap();
        assert_eq!(a.consecutive_failures, 0);
        assert_eq!(a.last_success_at, Some(next));
        // An account that needs reconnecting is never claimed.
        store
            .set_account_state(id, AccountState::NeedsReconnect, now)
            .await
            .unwrap();
        let far = now + Duration::days(2);
        assert!(
            store
                .claim_due_accounts("d", far, far, 5)
                .await
                .unwrap()
                .is_empty()
        );
        store.close().await;
    }
}

#[tokio::test]
async fn series_upsert_refreshes_detection_but_keeps_the_users_override() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-11-02T09:00:00Z");
        let (_, cal) = account_with_calendar(&store, now).await;
        let s = series(&store, cal, "uid-1").await;
        assert!(s.tracked());
        store
            .set_series_override(s.id, SeriesOverride::Excluded, now)
            .await
            .unwrap();
        let again = series(&store, cal, "uid-1").await;
        assert_eq!(again.id, s.id);
        assert_eq!(again.override_, SeriesOverride::Excluded);
        assert!(!again.tracked());
        assert_eq!(store.list_series().await.unwrap().len(), 1);
        store.close().await;
    }
}

#[tokio::test]
async fn many_series_are_stored_across_statements_with_the_last_of_a_uid_winning() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-11-02T09:00:00Z");
        let (_, cal) = account_with_calendar(&store, now).await;
        let kept = series(&store, cal, "uid-7").await;
        store
            .set_series_override(kept.id, SeriesOverride::Excluded, now)
            .await
            .unwrap();
        let upsert = |i: usize, summary: &str| SeriesUpsert {
            calendar_id: cal,
            uid: format!("uid-{i}"),
            summary: summary.into(),
            manager_email: Some("sam@example.com".into()),
            direct_email: Some(format!("d{i}@example.com")),
            direct_name: None,
            one_on_one: i.is_multiple_of(2),
            owner_is_organizer: true,
            confidence: 0.5,
            detection_reason: "weekly".into(),
            cadence: None,
        };
        // 450 series over three statements (200 a statement), one UID listed twice.
        let mut many: Vec<_> = (0..450).map(|i| upsert(i, "first")).collect();
        many.push(upsert(3, "second"));
        store.upsert_series_many(&many, now).await.unwrap();
        let all = store.list_series_in(cal).await.unwrap();
        assert_eq!(all.len(), 450, "{}", db.kind);
        let by_uid = |uid: &str| all.iter().find(|s| s.uid == uid).unwrap();
        assert_eq!(by_uid("uid-3").summary, "second", "{}", db.kind);
        assert_eq!(
            by_uid("uid-449").direct_email.as_deref(),
            Some("d449@example.com")
        );
        assert!(by_uid("uid-448").one_on_one && !by_uid("uid-447").one_on_one);
        assert_eq!(by_uid("uid-7").id, kept.id);
        assert_eq!(
            by_uid("uid-7").override_,
            SeriesOverride::Excluded,
            "{}",
            db.kind
        );
        assert_eq!(by_uid("uid-7").summary, "first");
        store.close().await;
    }
}

#[tokio::test]
async fn occurrences_are_unique_per_series_and_close_once() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-11-02T09:00:00Z");
        let (_, cal) = account_with_calendar(&store, now).await;
        let s = series(&store, cal, "uid-1").await;
        let start = t("2026-11-03T09:00:00Z");
        let end = start + Duration::minutes(30);
        let o1 = store
            .upsert_occurrence(s.id, start, start, end, Some("/a.ics"))
            .await
            .unwrap();
        let moved = start + Duration::hours(2);
        let o2 = store
            .upsert_occurrence(s.id, start, moved, moved + Duration::minutes(30), None)
            .await
            .unwrap();
        assert_eq!(
            o1.id, o2.id,
            "{}: same original start is one occurrence",
            db.kind
        );
        assert_eq!(o2.start_at, moved);
        assert_eq!(o2.remote_id.as_deref(), Some("/a.ics"));

        assert!(
            store
                .close_occurrence(
                    o1.id,
                    OccurrenceState::Held,
                    Some("block"),
                    Some("notes"),
                    now
                )
                .await
                .unwrap()
        );
        assert!(
            !store
                .close_occurrence(o1.id, OccurrenceState::Cancelled, None, None, now)
                .await
                .unwrap()
        );
        let occ = store.list_occurrences(s.id).await.unwrap();
        assert_eq!(occ.len(), 1);
        assert_eq!(occ[0].state().unwrap(), OccurrenceState::Held);
        assert_eq!(occ[0].notes.as_deref(), Some("notes"));
        // A closed occurrence keeps its times even if the calendar later says otherwise.
        let o3 = store
            .upsert_occurrence(s.id, start, start, end, None)
            .await
            .unwrap();
        assert_eq!(o3.start_at, moved);
        store.close().await;
    }
}

#[tokio::test]
async fn items_carry_and_revisions_keep_the_replaced_text() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-11-02T09:00:00Z");
        let (_, cal) = account_with_calendar(&store, now).await;
        let s = series(&store, cal, "uid-1").await;
        let a = store
            .add_item(
                s.id,
                "action",
                "Send the plan",
                ItemSource::Calendar,
                None,
                now,
            )
            .await
            .unwrap();
        let d = store
            .add_item(s.id, "direct", "Career talk", ItemSource::Web, None, now)
            .await
            .unwrap();
        assert_eq!(store.carry_open_actions(s.id, now).await.unwrap(), 1);
        let items = store.list_items(s.id, true).await.unwrap();
        assert_eq!(items.iter().map(|i| i.id).collect::<Vec<_>>(), vec![a, d]);
        assert_eq!(items[0].times_carried, 1);
        assert_eq!(items[1].times_carried, 0, "only action items carry");

        let before = "User text\n\nwith ünïcode and \\ backslashes";
        let rev = store
            .insert_revision(
                &NewRevision {
                    series_id: Some(s.id),
                    occurrence_id: None,
                    calendar_id: cal,
                    remote_id: "/a.ics".into(),
                    original_start: Some(t("2026-11-03T09:00:00Z")),
                    etag_before: Some("\"e1\"".into()),
                    description_before: Some(before.into()),
                    description_after: "agenda".into(),
                    restores: None,
                },
                now,
            )
            .await
            .unwrap();
        let r = store.get_revision(rev).await.unwrap();
        assert_eq!(r.description_before.as_deref(), Some(before));
        assert_eq!(r.etag_before.as_deref(), Some("\"e1\""));
        store.close().await;
    }
}

#[tokio::test]
async fn sync_runs_record_outcomes_and_abandoned_passes() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-11-02T09:00:00Z");
        let r1 = store.start_run("d1", None, now).await.unwrap();
        let stats = RunStats {
            accounts: 2,
            requests: 3,
            events_seen: 10,
            writes: 1,
            conflicts: 0,
        };
        store
            .finish_run(r1, stats, RunOutcome::Ok, None, now + Duration::seconds(1))
            .await
            .unwrap();
        store
            .start_run("d1", None, now + Duration::seconds(5))
            .await
            .unwrap();
        assert_eq!(
            store
                .abandon_runs("d1", now + Duration::seconds(6))
                .await
                .unwrap(),
            1
        );
        let runs = store.recent_runs(10).await.unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0].outcome, RunOutcome::Abandoned);
        assert_eq!(runs[1].stats, stats);
        // Old finished passes are pruned; a running one never is.
        store.start_run("d2", None, now).await.unwrap();
        assert_eq!(store.prune_runs(now + Duration::days(1)).await.unwrap(), 2);
        assert_eq!(store.recent_runs(10).await.unwrap().len(), 1);
        store.close().await;
    }
}

#[tokio::test]
async fn the_schema_refuses_unknown_states_orphans_and_duplicate_occurrences() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-11-02T09:00:00Z");
        let (id, cal) = account_with_calendar(&store, now).await;
        let s = series(&store, cal, "uid-1").await;
        let ts = "'2026-11-02T09:00:00+00:00'";
        let bad = [
            format!("UPDATE accounts SET state = 'sleeping' WHERE id = {id}"),
            format!("UPDATE series SET override = 'maybe' WHERE id = {}", s.id),
            format!(
                "INSERT INTO items (series_id, section, text, source, created_at, updated_at) \
                 VALUES ({}, 'misc', 'x', 'cli', {ts}, {ts})",
                s.id
            ),
            format!(
                "INSERT INTO items (series_id, section, text, source, created_at, updated_at) \
                 VALUES (999999, 'action', 'x', 'cli', {ts}, {ts})"
            ),
            format!(
                "INSERT INTO occurrences (series_id, original_start, start_at, end_at, status, closed_at) \
                 VALUES ({}, {ts}, {ts}, {ts}, 'upcoming', {ts})",
                s.id
            ),
        ];
        for sql in &bad {
            assert!(
                raw_exec(&db, sql).await.is_err(),
                "{}: accepted: {sql}",
                db.kind
            );
        }
        let dup = format!(
            "INSERT INTO occurrences (series_id, original_start, start_at, end_at) VALUES ({}, {ts}, {ts}, {ts})",
            s.id
        );
        raw_exec(&db, &dup).await.unwrap();
        assert!(
            raw_exec(&db, &dup).await.is_err(),
            "{}: duplicate occurrence accepted",
            db.kind
        );
        store.close().await;
    }
}

#[tokio::test]
async fn web_tables_keep_one_admin_digest_one_live_link_and_drop_only_web_topics() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-11-24T10:00:00Z");
        let k = db.kind;
        assert!(
            store.init_admin_token_hash("first", now).await.unwrap(),
            "{k}"
        );
        assert!(
            !store.init_admin_token_hash("second", now).await.unwrap(),
            "{k}"
        );
        assert_eq!(
            store.admin_token_hash().await.unwrap().as_deref(),
            Some("first")
        );

        let (_, cal) = account_with_calendar(&store, now).await;
        let a = series(&store, cal, "a").await;
        let b = series(&store, cal, "b").await;
        store.rotate_series_link(a.id, "link-1", now).await.unwrap();
        assert_eq!(
            store.series_for_link("link-1").await.unwrap(),
            Some(a.id),
            "{k}"
        );
        store.rotate_series_link(a.id, "link-2", now).await.unwrap();
        assert_eq!(
            store.series_for_link("link-1").await.unwrap(),
            None,
            "{k}: rotated"
        );
        assert_eq!(store.series_for_link("link-2").await.unwrap(), Some(a.id));
        assert_eq!(store.series_link_created(a.id).await.unwrap(), Some(now));
        assert_eq!(store.series_link_created(b.id).await.unwrap(), None);
        assert_eq!(store.revoke_series_link(a.id, now).await.unwrap(), 1, "{k}");
        assert_eq!(
            store.series_for_link("link-2").await.unwrap(),
            None,
            "{k}: revoked"
        );
        assert_eq!(store.revoke_series_link(a.id, now).await.unwrap(), 0, "{k}");

        let web = store
            .add_item(a.id, "direct", "mine", ItemSource::Web, None, now)
            .await
            .unwrap();
        let typed = store
            .add_item(
                a.id,
                "direct",
                "typed in the invite",
                ItemSource::Calendar,
                None,
                now,
            )
            .await
            .unwrap();
        let manager = store
            .add_item(a.id, "manager", "the manager's", ItemSource::Web, None, now)
            .await
            .unwrap();
        for other in [typed, manager] {
            assert!(
                !store.drop_web_topic(a.id, other, now).await.unwrap(),
                "{k}"
            );
        }
        assert!(
            !store.drop_web_topic(b.id, web, now).await.unwrap(),
            "{k}: other series"
        );
        assert!(store.drop_web_topic(a.id, web, now).await.unwrap(), "{k}");
        assert!(
            !store.drop_web_topic(a.id, web, now).await.unwrap(),
            "{k}: already dropped"
        );
        let open: Vec<i64> = store
            .list_items(a.id, true)
            .await
            .unwrap()
            .iter()
            .map(|i| i.id)
            .collect();
        assert_eq!(open, vec![typed, manager], "{k}");
        store.close().await;
    }
}

#[tokio::test]
async fn events_are_stored_and_read_back_in_batches_across_statement_boundaries() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-03-02T07:00:00Z");
        let (_, cal) = account_with_calendar(&store, now).await;
        let event = |i: usize, raw: &str| oneonone::store::CachedEvent {
            remote_id: format!("/cal/{i}.ics"),
            uid: format!("uid-{i}"),
            etag: Some(format!("\"{i}\"")),
            payload_hash: format!("h{i}"),
            summary: Some(format!("Event {i}")),
            start_at: Some(now),
            status: "confirmed".into(),
            raw: raw.into(),
        };
        // 620 rows: three statements of the batch (250 a statement), then 30 of them replaced.
        let first: Vec<_> = (0..620).map(|i| event(i, "v1")).collect();
        store.upsert_events(cal, first, now).await.unwrap();
        let again: Vec<_> = (590..620).map(|i| event(i, "v2")).collect();
        store.upsert_events(cal, again, now).await.unwrap();
        assert_eq!(store.count_events(cal).await.unwrap(), 620, "{}", db.kind);
        let mut ids: Vec<String> = (0..700).map(|i| format!("/cal/{i}.ics")).collect();
        ids.push("/cal/not-there.ics".into());
        let mut back = store.get_events(cal, &ids).await.unwrap();
        back.sort_by_key(|e| e.uid.trim_start_matches("uid-").parse::<usize>().unwrap());
        assert_eq!(back.len(), 620);
        assert!(back[..590].iter().all(|e| e.raw == "v1"));
        assert!(back[590..].iter().all(|e| e.raw == "v2"));
        assert_eq!(back[7], event(7, "v1"));
        store.close().await;
    }
}

#[tokio::test]
async fn a_uid_is_looked_up_among_the_resources_whose_text_is_kept() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-03-02T07:00:00Z");
        let (_, cal) = account_with_calendar(&store, now).await;
        let event = |href: &str, uid: &str, raw: &str| oneonone::store::CachedEvent {
            remote_id: href.into(),
            uid: uid.into(),
            etag: Some("\"1\"".into()),
            payload_hash: oneonone::store::payload_hash(raw.as_bytes()),
            summary: None,
            start_at: Some(now),
            status: "confirmed".into(),
            raw: raw.into(),
        };
        // A one-off (its text not kept) sharing its UID with a resource holding the series,
        // as when one occurrence was exported on its own.
        let rows = vec![
            event("/cal/z-one-off.ics", "weekly", ""),
            event("/cal/a-series.ics", "weekly", "BEGIN:VCALENDAR..."),
            event("/cal/lunch.ics", "lunch", ""),
        ];
        store.upsert_events(cal, rows, now).await.unwrap();
        let found = store.events_by_uid(cal, "weekly").await.unwrap();
        assert_eq!(
            found,
            vec![event("/cal/a-series.ics", "weekly", "BEGIN:VCALENDAR...")]
        );
        assert!(store.events_by_uid(cal, "lunch").await.unwrap().is_empty());
        store.close().await;
    }
}

#[tokio::test]
async fn an_account_connected_waits_to_be_started_and_one_from_before_counts_as_started() {
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-11-02T09:00:00Z");
        let waiting = store
            .insert_account(&caldav_account("alice"), now)
            .await
            .unwrap();
        let a = store.get_account(waiting).await.unwrap();
        assert_eq!(a.writing_started_at, None, "{}", db.kind);

        // Started once, by whoever asks first; asked again, nothing changes.
        let later = t("2026-11-02T10:00:00Z");
        assert_eq!(
            store.start_writing(Some(&[waiting]), later).await.unwrap(),
            vec![waiting]
        );
        assert!(
            store
                .start_writing(None, t("2026-11-03T00:00:00Z"))
                .await
                .unwrap()
                .is_empty(),
            "{}",
            db.kind
        );
        let a = store.get_account(waiting).await.unwrap();
        assert_eq!(a.writing_started_at, Some(later), "{}", db.kind);
        assert_eq!(a.next_due_at, Some(later), "{}: due at once", db.kind);

        // A database from before the column: its accounts were writing, and still are.
        let old = store
            .insert_account(&caldav_account("bob"), now)
            .await
            .unwrap();
        for sql in [
            "ALTER TABLE accounts DROP COLUMN writing_started_at",
            "DELETE FROM _sqlx_migrations WHERE version = 6",
        ] {
            raw_exec(&db, sql).await.unwrap();
        }
        assert_eq!(store.migrate().await.unwrap(), 1, "{}", db.kind);
        for id in [waiting, old] {
            let a = store.get_account(id).await.unwrap();
            assert_eq!(a.writing_started_at, Some(now), "{}: account {id}", db.kind);
        }
    }
}

#[tokio::test]
async fn closes_keep_when_and_how_marks_and_edits_are_kept_and_the_zone_is_remembered() {
    use oneonone::agenda::{AbsorbAction, AbsorbPlan};
    use oneonone::store::Mark;
    for db in TestDb::all().await {
        let store = db.store().await;
        let now = t("2026-11-01T00:00:00Z");
        let (_, cal) = account_with_calendar(&store, now).await;
        let s = series(&store, cal, "uid-zones").await;
        // No pass has seen the events yet: the calendar's zone; then the series' own.
        let zone = oneonone::when::series_zone(&store, &s, chrono_tz::UTC)
            .await
            .unwrap();
        assert_eq!(zone, chrono_tz::Europe::Berlin, "{}", db.kind);
        store
            .set_series_timezone(s.id, "America/New_York")
            .await
            .unwrap();
        let s = store.get_series(s.id).await.unwrap();
        let zone = oneonone::when::series_zone(&store, &s, chrono_tz::UTC)
            .await
            .unwrap();
        assert_eq!(zone, chrono_tz::America::New_York);

        let start = t("2026-11-02T14:00:00Z");
        let occ = store
            .upsert_occurrence(s.id, start, start, start + Duration::minutes(30), None)
            .await
            .unwrap();
        let add = |text: &'static str| {
            let store = store.clone();
            async move {
                store
                    .add_item(s.id, "manager", text, ItemSource::Cli, None, now)
                    .await
                    .unwrap()
            }
        };
        let (a, b) = (add("Budget").await, add("Laptop").await);

        // A line deleted from the invite the day before: dropped in that meeting, by the
        // calendar, at the pass's time; the edit is recorded, before the start.
        let before = t("2026-11-01T12:00:00Z");
        let drop = AbsorbPlan {
            actions: vec![AbsorbAction::Drop { id: a }],
            ..AbsorbPlan::default()
        };
        store
            .apply_absorb(s.id, occ.id, &drop, before)
            .await
            .unwrap();
        let i = store.get_item(a).await.unwrap();
        assert_eq!(
            (
                i.state.as_str(),
                i.closed_in,
                i.closed_at,
                i.closed_via.as_deref()
            ),
            ("dropped", Some(occ.id), Some(before), Some("calendar")),
            "{}",
            db.kind
        );
        // A pass that finds nothing new records no edit.
        let during = t("2026-11-02T14:10:00Z");
        store
            .apply_absorb(s.id, occ.id, &AbsorbPlan::default(), during)
            .await
            .unwrap();
        let o = store.list_occurrences(s.id).await.unwrap().remove(0);
        assert_eq!(o.edited_at, Some(before), "{}", db.kind);
        // Put back in the invite: open again, with no close recorded.
        let reopen = AbsorbPlan {
            actions: vec![AbsorbAction::Reopen { id: a }],
            ..AbsorbPlan::default()
        };
        store
            .apply_absorb(s.id, occ.id, &reopen, during)
            .await
            .unwrap();
        let i = store.get_item(a).await.unwrap();
        assert_eq!(
            (i.state.as_str(), i.closed_at, i.closed_via),
            ("open", None, None)
        );
        let o = store.list_occurrences(s.id).await.unwrap().remove(0);
        assert_eq!(o.edited_at, Some(during), "an edit during the meeting");

        // Closed through the API: when and how, no meeting.
        let later = t("2026-11-03T08:00:00Z");
        assert!(
            store
                .close_open_item(b, "done", ItemSource::Api, later)
                .await
                .unwrap()
        );
        let i = store.get_item(b).await.unwrap();
        assert_eq!(
            (i.closed_in, i.closed_at, i.closed_via.as_deref()),
            (None, Some(later), Some("api"))
        );

        // A person's word, kept with how; only on the series' own meetings.
        assert!(
            store
                .mark_occurrence(s.id, occ.id, Mark::Skipped, ItemSource::Web, later)
                .await
                .unwrap()
        );
        assert!(
            !store
                .mark_occurrence(s.id + 1000, occ.id, Mark::Held, ItemSource::Web, later)
                .await
                .unwrap()
        );
        let o = store.list_occurrences(s.id).await.unwrap().remove(0);
        assert_eq!(
            (o.mark(), o.marked_at, o.marked_via.as_deref()),
            (Some(Mark::Skipped), Some(later), Some("web"))
        );
        // The schema refuses any other word, and a close through anything else.
        let bad_mark = format!(
            "UPDATE occurrences SET marked = 'maybe' WHERE id = {}",
            occ.id
        );
        assert!(raw_exec(&db, &bad_mark).await.is_err(), "{}", db.kind);
        let bad_via = format!("UPDATE items SET closed_via = 'email' WHERE id = {b}");
        assert!(raw_exec(&db, &bad_via).await.is_err(), "{}", db.kind);
        store.close().await;
    }
}
