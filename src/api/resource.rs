//! Resources that load through server functions, with one JSON decoder in the client.
//!
//! A resource's first value reaches the browser as hydration data (a string in the page) and its
//! later values as server-function answers (bytes). Leptos' default resource codec decodes the
//! former with `serde_json::from_str` and server functions decode the latter with
//! `serde_json::from_slice`: two readers, so the WASM held every shipped type's deserializer
//! twice. [`JsonBytes`] decodes hydration data through the same byte reader, so each type is
//! compiled once (docs/benchmarks.md, "One JSON reader in the client").

use leptos::prelude::Resource;
use leptos::server::codee::{Decoder, Encoder};
use serde::{de::DeserializeOwned, Serialize};

/// JSON like Leptos' default codec, decoded with the reader server functions use.
pub struct JsonBytes;

impl<T: Serialize> Encoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = String;

    fn encode(value: &T) -> Result<String, Self::Error> {
        serde_json::to_string(value)
    }
}

impl<T: DeserializeOwned> Decoder<T> for JsonBytes {
    type Error = serde_json::Error;
    type Encoded = str;

    fn decode(encoded: &str) -> Result<T, Self::Error> {
        serde_json::from_slice(encoded.as_bytes())
    }
}

/// A resource whose values come from a server function.
pub type ApiResource<T> = Resource<T, JsonBytes>;

/// Creates an [`ApiResource`]: like `Resource::new`, but with the [`JsonBytes`] codec.
#[track_caller]
pub fn api_resource<T, S, Fut>(
    source: impl Fn() -> S + Send + Sync + 'static,
    fetcher: impl Fn(S) -> Fut + Send + Sync + 'static,
) -> ApiResource<T>
where
    T: Serialize + DeserializeOwned + Send + Sync + 'static,
    S: Send + Sync + Clone + PartialEq + 'static,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    Resource::new_with_options(source, fetcher, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hydration_data_round_trips_through_the_byte_reader() {
        let value: Result<Vec<(String, u32)>, String> = Ok(vec![("pve1".into(), 3)]);
        let encoded = <JsonBytes as Encoder<_>>::encode(&value).expect("encodes");
        let decoded: Result<Vec<(String, u32)>, String> =
            <JsonBytes as Decoder<_>>::decode(&encoded).expect("decodes");
        assert_eq!(decoded, value);
        assert!(<JsonBytes as Decoder<Vec<u32>>>::decode("[1,").is_err());
    }
}
