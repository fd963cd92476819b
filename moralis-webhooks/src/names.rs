//! Which function and class names Parse Server can actually call. The attributes check the
//! same rules at compile time; these run for handlers registered without them.

use crate::Trigger;

/// System classes whose objects clients save through the REST API, so that save and delete
/// triggers fire for them.
const SYSTEM_CLASSES: [&str; 7] = [
    "_User",
    "_Installation",
    "_Role",
    "_Session",
    "_Product",
    "_Audience",
    "_PushStatus",
];

/// Checks a cloud function name.
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
            "function name `{name}` contains {c:?}: {reason}; use letters, digits, `_` or `-`"
        )),
        None => Ok(()),
    }
}

/// Checks a class name for a save or delete trigger.
pub(crate) fn check_class_name(class_name: &str, trigger: Trigger) -> Result<(), String> {
    if class_name == "_Session" {
        return Err(format!(
            "Parse Server refuses the {trigger} trigger on `_Session` (only afterLogout is allowed there)"
        ));
    }
    if class_name == "_PushStatus" && trigger == Trigger::BeforeSave {
        return Err("Parse Server refuses a beforeSave trigger on `_PushStatus`".to_owned());
    }
    if SYSTEM_CLASSES.contains(&class_name) {
        return Ok(());
    }
    let mut chars = class_name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{class_name}` is not a Parse class name: it must start with a letter and hold only \
             letters, digits and `_`, or be one of the system classes {}",
            SYSTEM_CLASSES.join(", ")
        ))
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
            assert_eq!(
                check_class_name(good, Trigger::BeforeSave),
                Ok(()),
                "{good}"
            );
        }
        for bad in [
            "",
            "2Fast",
            "_Private",
            "Game Score",
            "Game-Score",
            "@File",
            "Ünï",
        ] {
            assert!(check_class_name(bad, Trigger::AfterSave).is_err(), "{bad}");
        }
        assert!(check_class_name("_Session", Trigger::AfterDelete).is_err());
        assert!(check_class_name("_PushStatus", Trigger::BeforeSave).is_err());
        assert_eq!(check_class_name("_PushStatus", Trigger::AfterSave), Ok(()));
    }
}
