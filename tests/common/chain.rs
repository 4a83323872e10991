//! Reading an error's `source()` chain as a user's `{:#}` would print it.

use std::error::Error;

/// The text of each layer of `err`'s chain, outermost first.
pub fn layers(err: &(dyn Error + 'static)) -> Vec<String> {
    let mut out = vec![err.to_string()];
    let mut source = err.source();
    while let Some(layer) = source {
        out.push(layer.to_string());
        source = layer.source();
    }
    out
}

/// The chain joined as anyhow's `{:#}` prints it.
pub fn printed(err: &(dyn Error + 'static)) -> String {
    layers(err).join(": ")
}

fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// The first run of three words that an inner layer says again after an outer one.
pub fn repeated_phrase(err: &(dyn Error + 'static)) -> Option<String> {
    let layers: Vec<Vec<String>> = layers(err).iter().map(|l| words(l)).collect();
    for (i, inner) in layers.iter().enumerate() {
        for phrase in inner.windows(3) {
            if layers[..i]
                .iter()
                .any(|outer| outer.windows(3).any(|w| w == phrase))
            {
                return Some(phrase.join(" "));
            }
        }
    }
    None
}

/// Fails unless `err`'s own message holds every one of `words` (case-insensitive) and its
/// chain repeats no phrase.
pub fn assert_says(err: &(dyn Error + 'static), words: &[&str]) {
    let own = err.to_string().to_lowercase();
    for word in words {
        assert!(
            own.contains(&word.to_lowercase()),
            "{word:?} is not in: {err}"
        );
    }
    assert_eq!(repeated_phrase(err), None, "in: {}", printed(err));
}
