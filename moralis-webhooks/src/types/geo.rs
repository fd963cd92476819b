//! `GeoPoint` and `Polygon`.

use std::fmt;

use serde::de;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A geographic point: `{"__type": "GeoPoint", "latitude": ..., "longitude": ...}`, with
/// the latitude in [-90, 90] and the longitude in [-180, 180], as Parse Server requires.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct GeoPoint {
    latitude: f64,
    longitude: f64,
}

/// A value a Parse type cannot hold: a latitude out of range, a polygon of two points, ...
///
/// It converts into an [`Error`](crate::Error) whose message the client sees, so `?` in a
/// handler tells the client what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidValue(pub(crate) String);

impl GeoPoint {
    /// The point at `latitude`, `longitude` (degrees), or an error naming the coordinate
    /// out of range.
    pub fn new(latitude: f64, longitude: f64) -> Result<Self, InvalidValue> {
        if !(-90.0..=90.0).contains(&latitude) {
            return Err(InvalidValue(format!(
                "latitude {latitude} is outside [-90, 90]"
            )));
        }
        if !(-180.0..=180.0).contains(&longitude) {
            return Err(InvalidValue(format!(
                "longitude {longitude} is outside [-180, 180]"
            )));
        }
        Ok(GeoPoint {
            latitude,
            longitude,
        })
    }

    /// The latitude, in degrees.
    pub fn latitude(&self) -> f64 {
        self.latitude
    }

    /// The longitude, in degrees.
    pub fn longitude(&self) -> f64 {
        self.longitude
    }
}

impl Serialize for GeoPoint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("__type", "GeoPoint")?;
        map.serialize_entry("latitude", &self.latitude)?;
        map.serialize_entry("longitude", &self.longitude)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for GeoPoint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(rename = "__type")]
            kind: Option<String>,
            latitude: f64,
            longitude: f64,
        }
        let wire = Wire::deserialize(deserializer)?;
        match wire.kind.as_deref() {
            None | Some("GeoPoint") => {}
            Some(other) => {
                return Err(de::Error::custom(format_args!(
                    "expected a Parse GeoPoint, found a `{other}`"
                )))
            }
        }
        GeoPoint::new(wire.latitude, wire.longitude).map_err(de::Error::custom)
    }
}

/// A polygon of at least three points: `{"__type": "Polygon", "coordinates": [[lat, lng],
/// ...]}`.
#[derive(Clone, PartialEq, Debug)]
pub struct Polygon {
    coordinates: Vec<GeoPoint>,
}

impl Polygon {
    /// The polygon through `points` (at least three, as Parse Server requires).
    pub fn new(points: Vec<GeoPoint>) -> Result<Self, InvalidValue> {
        if points.len() < 3 {
            return Err(InvalidValue(format!(
                "a polygon needs at least 3 points, not {}",
                points.len()
            )));
        }
        Ok(Polygon {
            coordinates: points,
        })
    }

    /// The points.
    pub fn coordinates(&self) -> &[GeoPoint] {
        &self.coordinates
    }
}

impl Serialize for Polygon {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let pairs: Vec<[f64; 2]> = self
            .coordinates
            .iter()
            .map(|p| [p.latitude, p.longitude])
            .collect();
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("__type", "Polygon")?;
        map.serialize_entry("coordinates", &pairs)?;
        map.end()
    }
}

impl<'de> Deserialize<'de> for Polygon {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Wire {
            #[serde(rename = "__type")]
            kind: String,
            coordinates: Vec<[f64; 2]>,
        }
        let wire = Wire::deserialize(deserializer)?;
        if wire.kind != "Polygon" {
            return Err(de::Error::custom(format_args!(
                "expected a Parse polygon, found a `{}`",
                wire.kind
            )));
        }
        let points = wire
            .coordinates
            .into_iter()
            .map(|[latitude, longitude]| GeoPoint::new(latitude, longitude))
            .collect::<Result<Vec<_>, _>>()
            .map_err(de::Error::custom)?;
        Polygon::new(points).map_err(de::Error::custom)
    }
}

impl fmt::Display for GeoPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "({}, {})", self.latitude, self.longitude)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn points_are_range_checked_without_panics() {
        let point = GeoPoint::new(48.85, 2.35).unwrap();
        let rest = json!({"__type": "GeoPoint", "latitude": 48.85, "longitude": 2.35});
        assert_eq!(serde_json::to_value(point).unwrap(), rest);
        assert_eq!(serde_json::from_value::<GeoPoint>(rest).unwrap(), point);
        for (lat, lng) in [
            (90.1, 0.0),
            (-91.0, 0.0),
            (0.0, 180.5),
            (f64::NAN, 0.0),
            (0.0, f64::INFINITY),
        ] {
            assert!(GeoPoint::new(lat, lng).is_err(), "{lat} {lng}");
        }
        let error: crate::Error = GeoPoint::new(100.0, 0.0).unwrap_err().into();
        assert_eq!(error.client_message(), "latitude 100 is outside [-90, 90]");
        for bad in [
            json!({"__type": "GeoPoint", "latitude": 95, "longitude": 0}),
            json!({"__type": "Pointer", "latitude": 1, "longitude": 0}),
            json!({"__type": "GeoPoint", "latitude": "1", "longitude": 0}),
        ] {
            assert!(
                serde_json::from_value::<GeoPoint>(bad.clone()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn polygons_need_three_points() {
        let p = |lat, lng| GeoPoint::new(lat, lng).unwrap();
        assert!(Polygon::new(vec![p(0.0, 0.0), p(0.0, 1.0)]).is_err());
        let polygon = Polygon::new(vec![p(0.0, 0.0), p(0.0, 1.0), p(1.0, 1.0)]).unwrap();
        let rest =
            json!({"__type": "Polygon", "coordinates": [[0.0, 0.0], [0.0, 1.0], [1.0, 1.0]]});
        assert_eq!(serde_json::to_value(&polygon).unwrap(), rest);
        assert_eq!(serde_json::from_value::<Polygon>(rest).unwrap(), polygon);
        assert_eq!(polygon.coordinates().len(), 3);
        assert!(serde_json::from_value::<Polygon>(
            json!({"__type": "Polygon", "coordinates": [[0, 0], [0, 1], [100, 1]]})
        )
        .is_err());
    }
}
