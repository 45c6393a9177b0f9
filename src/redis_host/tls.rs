//! TLS for `rediss://` external servers (ElastiCache with in-transit encryption, say),
//! verified against the Mozilla roots (webpki-roots) or, for a private CA, the PEM
//! certificates of `redis.tls_ca_file` (or the `REDWHISK_REDIS_CA_FILE` variable) instead.

use std::io;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

use super::types::TlsCa;
use crate::profile::TLS_CA_FILE_ENV;

/// How many certificates `pem` holds; an error when none or one is malformed.
pub(crate) fn check_pem(pem: &str) -> Result<usize, String> {
    let mut n = 0;
    for cert in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        cert.map_err(|e| format!("not a PEM certificate file ({e})"))?;
        n += 1;
    }
    if n == 0 {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) in the file".into());
    }
    Ok(n)
}

/// The Mozilla roots, or the CA file's certificates alone: a private CA replaces the public
/// roots, as the actions do (the redis crate's `root_cert`, Node.js's `ca`) and as
/// `redis-cli --cacert` does.
fn roots(ca: Option<&TlsCa>) -> io::Result<RootCertStore> {
    let Some(ca) = ca else {
        return Ok(RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        });
    };
    let mut roots = RootCertStore::empty();
    {
        let bad = |e: String| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("redis.tls_ca_file {}: {e}", ca.path.display()),
            )
        };
        for cert in CertificateDer::pem_slice_iter(ca.pem.as_bytes()) {
            let cert = cert.map_err(|e| bad(e.to_string()))?;
            roots.add(cert).map_err(|e| bad(e.to_string()))?;
        }
    }
    Ok(roots)
}

/// Handshake with `host` over an open TCP stream; the certificate must name `host` and chain
/// to a trusted root. A certificate that does not is an `InvalidData` error saying which
/// setting to fix (waiting would not help); the rest keep their kind.
pub(crate) async fn connect(
    host: &str,
    ca: Option<&TlsCa>,
    tcp: TcpStream,
) -> io::Result<TlsStream<TcpStream>> {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots(ca)?)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
        .map_err(|e| explain(e, ca))
}

/// Add what to do to a failed handshake.
fn explain(e: io::Error, ca: Option<&TlsCa>) -> io::Error {
    use tokio_rustls::rustls::{CertificateError, Error};
    let what = match e.get_ref().and_then(|i| i.downcast_ref::<Error>()) {
        Some(Error::InvalidCertificate(CertificateError::UnknownIssuer)) => match ca {
            None => format!(
                "the server's certificate is signed by a CA redwhisk does not trust: set \
                 `redis.tls_ca_file` in the profile (or {TLS_CA_FILE_ENV}) to the CA's PEM file"
            ),
            Some(ca) => format!(
                "the server's certificate is not signed by the CA in redis.tls_ca_file {} \
                 (which replaces the public roots): name the CA that signed it",
                ca.path.display()
            ),
        },
        Some(Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        )) => "the server's certificate does not name the host in `redis.url`: connect by a \
               name (or IP) the certificate lists"
            .to_string(),
        Some(Error::InvalidCertificate(_)) => {
            "the server's certificate is not valid (expired, or not for a server)".to_string()
        }
        Some(Error::InvalidMessage(_)) | Some(Error::InappropriateMessage { .. }) => {
            "the server does not speak TLS there: if it is a plain Redis port, use redis://"
                .to_string()
        }
        _ => return e,
    };
    io::Error::new(io::ErrorKind::InvalidData, format!("TLS: {e}: {what}"))
}
