//! Items managed from the command line (issue 25): `item list`, `add`, `edit`, `done`, `drop`
//! and `move` (to a section, to a place in it), on SQLite and PostgreSQL, with the written
//! agenda in a real Radicale following each change, and a reorder not put back by the invite.

use serde_json::Value;

use crate::fixtures::TestDb;
use crate::fixtures::caldav::{ALICE, Setup, W1, description_at};
use crate::fixtures::caldav_server::Kind;

const WITH: &str = "alice@example.com";

fn items(s: &Setup, all: bool) -> Vec<Value> {
    let mut args = vec!["item", "list", "--with", WITH, "--json"];
    if all {
        args.push("--all");
    }
    let v: Value = serde_json::from_str(&s.cli_ok(&args)).unwrap();
    v.as_array().unwrap().clone()
}

fn id_of(list: &[Value], text: &str) -> String {
    list.iter()
        .find(|i| i["text"] == text)
        .unwrap_or_else(|| panic!("{text:?} not in {list:?}"))["id"]
        .to_string()
}

/// The texts of the open items of `section`, in their order, with their `position`.
fn order(list: &[Value], section: &str) -> Vec<(String, i64)> {
    list.iter()
        .filter(|i| i["section"] == section && i["state"] == "open")
        .map(|i| {
            (
                i["text"].as_str().unwrap().to_string(),
                i["position"].as_i64().unwrap(),
            )
        })
        .collect()
}

/// Whether the lines appear in `agenda` in this order.
fn in_order(agenda: &str, lines: &[&str]) -> bool {
    let at: Vec<Option<usize>> = lines
        .iter()
        .map(|l| agenda.find(&format!("- [ ] {l}")))
        .collect();
    at.iter().all(Option::is_some) && at.windows(2).all(|w| w[0] < w[1])
}

fn failure(out: &std::process::Output) -> String {
    assert!(!out.status.success(), "succeeded: {out:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[tokio::test]
async fn items_are_listed_edited_closed_moved_and_reordered_from_the_cli_on_every_database() {
    for db in TestDb::all().await {
        let mut s = Setup::new(Kind::Radicale).await;
        let kind = db.kind;
        s.db = db;
        s.connect_and_start("2026-03-24T12:00:00Z");
        for (section, text) in [
            ("manager", "Budget"),
            ("manager", "Hiring"),
            ("manager", "Offsite"),
            ("direct", "Promotion"),
        ] {
            s.cli_ok(&["item", "add", "--with", WITH, "--section", section, text]);
        }
        let list = items(&s, false);
        assert_eq!(
            order(&list, "manager"),
            [
                ("Budget".to_string(), 1),
                ("Hiring".to_string(), 2),
                ("Offsite".to_string(), 3)
            ],
            "{kind}"
        );
        // The text list shows the place (#) each `move --position` takes.
        let text = s.cli_ok(&["item", "list", "--with", WITH]);
        assert!(
            text.lines()
                .any(|l| l.contains("manager") && l.contains("#3") && l.contains("Offsite")),
            "{kind}: {text}"
        );
        assert!(
            text.contains("item move ID --section S --position N"),
            "{text}"
        );
        s.sync("2026-03-24T12:10:00Z");
        let agenda = description_at(&s.body(ALICE).await, &s.uid("weekly-alice"), W1);
        assert!(
            in_order(&agenda, &["Budget", "Hiring", "Offsite"]),
            "{kind}: {agenda}"
        );

        // Offsite first, Promotion into the manager's topics at place 2, Budget reworded,
        // Hiring done: each reaches the invite at the next pass, in that order.
        let offsite = id_of(&list, "Offsite");
        let moved = s.cli_ok(&["item", "move", &offsite, "--position", "1"]);
        assert!(moved.contains("is #1 of manager"), "{kind}: {moved}");
        let promotion = id_of(&list, "Promotion");
        s.cli_ok(&[
            "item",
            "move",
            &promotion,
            "--section",
            "manager",
            "--position",
            "2",
        ]);
        let budget = id_of(&list, "Budget");
        let edited = s.cli_ok(&["item", "edit", &budget, "Budget", "for", "Q3"]);
        assert!(edited.contains("\"Budget for Q3\""), "{kind}: {edited}");
        let hiring = id_of(&list, "Hiring");
        s.cli_ok(&["item", "done", &hiring]);
        let list = items(&s, false);
        assert_eq!(
            order(&list, "manager"),
            [
                ("Offsite".to_string(), 1),
                ("Promotion".to_string(), 2),
                ("Budget for Q3".to_string(), 3)
            ],
            "{kind}: {list:?}"
        );
        assert_eq!(order(&list, "direct"), [], "{kind}");
        s.sync("2026-03-24T12:20:00Z");
        let agenda = description_at(&s.body(ALICE).await, &s.uid("weekly-alice"), W1);
        assert!(
            in_order(&agenda, &["Offsite", "Promotion", "Budget for Q3"]),
            "{kind}: the invite's older order came back:\n{agenda}"
        );
        assert!(!agenda.contains("- [ ] Hiring"), "{kind}: {agenda}");
        assert!(agenda.contains("Alice's own notes: keep me."), "{agenda}");
        // Another pass reads the invite back: nothing moves.
        s.sync("2026-03-24T12:30:00Z");
        assert_eq!(
            order(&items(&s, false), "manager"),
            order(&list, "manager"),
            "{kind}"
        );

        // Dropped: gone from the list and from the invite; the history keeps it.
        let dropped = s.cli_ok(&["item", "drop", &offsite]);
        assert!(dropped.contains("is dropped"), "{kind}: {dropped}");
        let all = items(&s, true);
        assert_eq!(
            all.iter()
                .find(|i| i["text"] == "Offsite")
                .map(|i| (&i["state"], &i["position"])),
            Some((&Value::from("dropped"), &Value::Null)),
            "{kind}"
        );
        s.sync("2026-03-24T12:40:00Z");
        let agenda = description_at(&s.body(ALICE).await, &s.uid("weekly-alice"), W1);
        assert!(!agenda.contains("Offsite"), "{kind}: {agenda}");

        // What is refused, and why, naming the item and the next step once.
        let closed = failure(&s.cli(&["item", "edit", &hiring, "again"]));
        assert!(
            closed.contains(&format!("item {hiring} is done; only open items change")),
            "{kind}: {closed}"
        );
        let closed = failure(&s.cli(&["item", "move", &offsite, "--position", "1"]));
        assert!(closed.contains("is dropped"), "{kind}: {closed}");
        let nowhere = failure(&s.cli(&["item", "move", &budget]));
        assert!(
            nowhere.contains("a section and/or a position"),
            "{kind}: {nowhere}"
        );
        let zero = failure(&s.cli(&["item", "move", &budget, "--position", "0"]));
        assert!(zero.contains("--position"), "{kind}: {zero}");
        let gone = failure(&s.cli(&["item", "move", "424242", "--section", "direct"]));
        assert!(
            gone.contains("item 424242 does not exist"),
            "{kind}: {gone}"
        );
        let empty = failure(&s.cli(&["item", "edit", &budget, " "]));
        assert!(empty.contains("the item text is empty"), "{kind}: {empty}");
        // Past the last place: last.
        s.cli_ok(&["item", "move", &budget, "--position", "9"]);
        let last = order(&items(&s, false), "manager");
        assert_eq!(last.last().unwrap().0, "Budget for Q3", "{kind}");
    }
}
