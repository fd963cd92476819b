//! Which hook names Parse Server can actually call: one source for both crates.
//!
//! The attributes check these rules at compile time (this file is also the macros crate's
//! `names` module, through a symbolic link), and the core crate checks them at start-up for
//! handlers registered by hand. It therefore uses nothing but `core` and `std`, and speaks
//! of triggers by the names Parse Server gives them (`beforeSave`, `afterLogout`, ...).

/// System classes whose objects clients write through the REST API, so that save and
/// delete triggers fire for them.
pub(crate) const SYSTEM_CLASSES: [&str; 7] = [
    "_User",
    "_Installation",
    "_Role",
    "_Session",
    "_Product",
    "_Audience",
    "_PushStatus",
];

/// The pseudo-class of the file triggers.
pub(crate) const FILE_CLASS: &str = "@File";
/// The pseudo-class of LiveQuery's beforeConnect.
pub(crate) const CONNECT_CLASS: &str = "@Connect";
/// The pseudo-class of the config triggers, which cannot work over a webhook.
pub(crate) const CONFIG_CLASS: &str = "@Config";

/// Why `@Config` hooks are refused.
pub(crate) const CONFIG_REASON: &str = "Parse Server 9 never calls a `@Config` hook over a \
    webhook (its wrapper fails first), and while one is registered every `PUT /config` fails";

/// Checks a cloud function name: `Err` holds the reason, to be put after the name.
pub(crate) fn check_function_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("the function name is empty".to_owned());
    }
    let why = |c: char| match c {
        '.' => Some("Parse Server reads dots as namespaces and would never call it"),
        '"' | '\'' | '`' => Some("Parse Server stores it but can never call it"),
        '/' | '\\' | '?' | '#' | '%' => Some("it cannot be part of the webhook's URL path"),
        c if c.is_whitespace() || c.is_control() => {
            Some("it cannot be part of the webhook's URL path")
        }
        _ => None,
    };
    match name.chars().find_map(|c| why(c).map(|reason| (c, reason))) {
        Some((c, reason)) => Err(format!(
            "the function name contains {}: {reason}; use letters, digits, `_` or `-`",
            describe(c)
        )),
        None => Ok(()),
    }
}

/// Checks the class of a trigger (`trigger` is Parse Server's name for it) against the
/// restrictions Parse Server enforces when the hook is registered, and the ones that make
/// a hook useless or harmful over a webhook.
pub(crate) fn check_class_name(class_name: &str, trigger: &str) -> Result<(), String> {
    let fixed = |class: &str| -> Result<(), String> {
        if class_name == class {
            Ok(())
        } else {
            Err(format!(
                "Parse Server calls {} only on `{class}`, not on `{class_name}`",
                with_article(trigger)
            ))
        }
    };
    match trigger {
        "beforeLogin" | "afterLogin" | "beforePasswordResetRequest" => return fixed("_User"),
        "afterLogout" => return fixed("_Session"),
        "beforeConnect" => return fixed(CONNECT_CLASS),
        _ => {}
    }
    match class_name {
        "" => Err("the class name is empty".to_owned()),
        CONFIG_CLASS => Err(CONFIG_REASON.to_owned()),
        FILE_CLASS => match trigger {
            "beforeSave" | "afterSave" | "beforeDelete" | "afterDelete" => Ok(()),
            _ => Err(format!(
                "Parse Server has no {} for files",
                with_article(trigger)
            )),
        },
        CONNECT_CLASS => Err(format!(
            "`@Connect` has only the beforeConnect trigger, not {}",
            with_article(trigger)
        )),
        "_Session" => Err(format!(
            "Parse Server refuses {} on `_Session` (only afterLogout is allowed there)",
            with_article(trigger)
        )),
        "_PushStatus" if trigger == "beforeSave" => {
            Err("Parse Server refuses a beforeSave trigger on `_PushStatus`".to_owned())
        }
        _ if SYSTEM_CLASSES.contains(&class_name) => Ok(()),
        _ => {
            let bytes = class_name.as_bytes();
            let valid = bytes.first().is_some_and(u8::is_ascii_alphabetic)
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'_');
            if valid {
                Ok(())
            } else {
                Err(format!(
                    "`{class_name}` is not a Parse class name: it must start with a letter and \
                     hold only letters, digits and `_`, or be a system class such as `_User`"
                ))
            }
        }
    }
}

/// `a beforeSave trigger`, `an afterSave trigger`.
fn with_article(trigger: &str) -> String {
    let article = if trigger.starts_with('a') { "an" } else { "a" };
    format!("{article} {trigger} trigger")
}

/// A refused character as a message shows it.
fn describe(c: char) -> String {
    match c {
        ' ' => "a space".to_owned(),
        '`' => "a backtick".to_owned(),
        c if c.is_whitespace() || c.is_control() => format!("`{}`", c.escape_default()),
        c => format!("`{c}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_parse_server_can_call() {
        for good in ["hello", "add_2", "get-score", "ÄÖÜ", "v2:price"] {
            assert_eq!(check_function_name(good), Ok(()), "{good}");
        }
        for bad in ["", "ns.fn", "say\"hi", "it's", "a/b", "a b", "50%", "x\n"] {
            assert!(check_function_name(bad).is_err(), "{bad}");
        }
        assert!(check_function_name("ns.fn")
            .unwrap_err()
            .contains("namespaces"));
    }

    #[test]
    fn class_names_parse_server_accepts() {
        for good in [
            "GameScore",
            "a",
            "Game_Score2",
            "_User",
            "_Installation",
            "_Role",
        ] {
            assert_eq!(check_class_name(good, "beforeSave"), Ok(()), "{good}");
            assert_eq!(check_class_name(good, "beforeFind"), Ok(()), "{good}");
        }
        for bad in ["", "2Fast", "_Private", "Game Score", "Game-Score", "Ünï"] {
            assert!(check_class_name(bad, "afterSave").is_err(), "{bad}");
        }
        assert!(check_class_name("_Session", "afterDelete").is_err());
        assert!(check_class_name("_Session", "beforeFind").is_err());
        assert_eq!(check_class_name("_Session", "afterLogout"), Ok(()));
        assert!(check_class_name("_PushStatus", "beforeSave").is_err());
        assert_eq!(check_class_name("_PushStatus", "afterSave"), Ok(()));
    }

    #[test]
    fn fixed_classes_and_pseudo_classes() {
        assert_eq!(check_class_name("_User", "beforeLogin"), Ok(()));
        assert!(check_class_name("GameScore", "afterLogin")
            .unwrap_err()
            .contains("only on `_User`"));
        assert!(check_class_name("_User", "afterLogout").is_err());
        assert_eq!(check_class_name("@File", "beforeDelete"), Ok(()));
        assert!(check_class_name("@File", "beforeFind").is_err());
        assert_eq!(check_class_name("@Connect", "beforeConnect"), Ok(()));
        assert!(check_class_name("@Connect", "beforeSubscribe").is_err());
        for trigger in ["beforeSave", "afterSave"] {
            assert!(check_class_name("@Config", trigger)
                .unwrap_err()
                .contains("PUT /config"));
        }
        assert_eq!(check_class_name("LQ", "afterEvent"), Ok(()));
    }
}
