//! TLS for `rediss://` external servers, verified against the Mozilla roots (webpki-roots)
//! plus, for a private CA, the PEM certificates in the file named by [`CA_FILE_ENV`].

use std::io;
use std::sync::Arc;

use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// Names a PEM file of extra trust anchors (e.g. a private CA of a managed Redis).
pub const CA_FILE_ENV: &str = "REDWHISK_REDIS_CA_FILE";

async fn roots() -> io::Result<RootCertStore> {
    let mut roots = RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = std::env::var_os(CA_FILE_ENV) {
        let shown = std::path::PathBuf::from(&path).display().to_string();
        let bad = |e: String| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{CA_FILE_ENV}={shown}: {e}"),
            )
        };
        let pem = tokio::fs::read(&path)
            .await
            .map_err(|e| bad(e.to_string()))?;
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| bad(e.to_string()))?;
            roots.add(cert).map_err(|e| bad(e.to_string()))?;
            added += 1;
        }
        if added == 0 {
            return Err(bad("no PEM certificate in the file".into()));
        }
    }
    Ok(roots)
}

/// Handshake with `host` over an open TCP stream; the certificate must name `host`.
pub(crate) async fn connect(host: &str, tcp: TcpStream) -> io::Result<TlsStream<TcpStream>> {
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots().await?)
        .with_no_client_auth();
    let name = ServerName::try_from(host.to_string())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    TlsConnector::from(Arc::new(config))
        .connect(name, tcp)
        .await
}
