//! certfleet's own etcd v3 client: one gRPC channel balanced over every endpoint, and the
//! calls the store makes on etcd's KV, Watch and Lease services, on the stubs generated
//! from `proto/`. Every call answers etcd's message or the gRPC [`Status`] it failed with;
//! retries, time limits and the mapping to store errors are the store's (see `mod.rs`).

use super::pb::etcdserverpb::kv_client::KvClient;
use super::pb::etcdserverpb::lease_client::LeaseClient;
use super::pb::etcdserverpb::watch_client::WatchClient;
use super::pb::etcdserverpb::{
    watch_request, DeleteRangeRequest, DeleteRangeResponse, LeaseGrantRequest, LeaseGrantResponse,
    LeaseKeepAliveRequest, LeaseKeepAliveResponse, LeaseRevokeRequest, LeaseRevokeResponse,
    PutRequest, PutResponse, RangeRequest, RangeResponse, TxnRequest, TxnResponse,
    WatchCreateRequest, WatchRequest, WatchResponse,
};
use super::EtcdOptions;
use crate::error::StoreError;
use std::future::Future;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::channel::Change;
use tonic::transport::{Channel, Endpoint};
use tonic::{Status, Streaming};

/// The answer of one etcd call.
pub(super) type Rpc<T> = Result<T, Status>;

/// The largest answer accepted from etcd (gRPC's default limit is 4 MiB): a listing's
/// page of [`EtcdOptions::list_page_size`] values of up to 1.5 MiB each, or of
/// [`EtcdOptions::list_page_bytes`] with room for entries larger than the ones before
/// them (see `paging.rs`).
pub(super) const MAX_MESSAGE: usize = 256 << 20;

/// An answer larger than [`MAX_MESSAGE`], refused by this client before reading it
/// (tonic's `OutOfRange`, which etcd also answers for a compacted or future revision:
/// told apart by tonic's message).
pub(super) fn too_large(status: &Status) -> bool {
    status.code() == tonic::Code::OutOfRange
        && status.message().contains("message length too large")
}

/// Requests queued on an open stream (a watch, a lease keep-alive) before sending waits.
const STREAM_REQUESTS: usize = 16;

/// How often an HTTP/2 ping checks a connection that has a call open, and how long its
/// answer may take. etcd refuses pings more often than every 5 s
/// (`--grpc-keepalive-min-time`) and pings on a connection without a call, so none are
/// sent then.
const PING_INTERVAL: Duration = Duration::from_secs(10);
const PING_TIMEOUT: Duration = Duration::from_secs(5);
/// TCP keep-alive on every connection, for a peer that vanished without a word.
const TCP_KEEPALIVE: Duration = Duration::from_secs(10);

/// A client of one etcd cluster. Cheap to clone: clones share the channel and its
/// connections.
#[derive(Clone)]
pub(super) struct EtcdClient {
    kv: KvClient<Channel>,
    watch: WatchClient<Channel>,
    lease: LeaseClient<Channel>,
}

impl EtcdClient {
    /// A client spreading its calls over `endpoints` (`http://host:port`, or `host:port`
    /// for plain HTTP). Connections are opened on first use, each within
    /// [`EtcdOptions::connect_timeout`], and re-opened after a failure; a call waiting for
    /// an answer longer than [`EtcdOptions::request_timeout`] fails. An endpoint that is
    /// not such a URL is an error naming it.
    pub(super) async fn connect(
        endpoints: &[String],
        options: &EtcdOptions,
    ) -> Result<EtcdClient, StoreError> {
        let mut parsed = Vec::with_capacity(endpoints.len());
        for endpoint in endpoints {
            parsed.push(endpoint_of(endpoint, options)?);
        }
        let (channel, changes) = Channel::balance_channel(parsed.len().max(1));
        for endpoint in parsed {
            let uri = endpoint.uri().clone();
            changes
                .send(Change::Insert(uri.clone(), endpoint))
                .await
                .map_err(|_| {
                    StoreError::Unavailable(format!(
                        "etcd endpoint {uri}: the gRPC channel stopped before it was added"
                    ))
                })?;
        }
        Ok(EtcdClient {
            kv: KvClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE),
            watch: WatchClient::new(channel.clone()).max_decoding_message_size(MAX_MESSAGE),
            lease: LeaseClient::new(channel),
        })
    }

    /// Reads a key or a range (`KV.Range`).
    pub(super) fn range(&self, request: RangeRequest) -> impl Future<Output = Rpc<RangeResponse>> {
        let mut kv = self.kv.clone();
        async move { Ok(kv.range(request).await?.into_inner()) }
    }

    /// Writes a key (`KV.Put`).
    pub(super) fn put(&self, request: PutRequest) -> impl Future<Output = Rpc<PutResponse>> {
        let mut kv = self.kv.clone();
        async move { Ok(kv.put(request).await?.into_inner()) }
    }

    /// Deletes a key or a range (`KV.DeleteRange`).
    pub(super) fn delete_range(
        &self,
        request: DeleteRangeRequest,
    ) -> impl Future<Output = Rpc<DeleteRangeResponse>> {
        let mut kv = self.kv.clone();
        async move { Ok(kv.delete_range(request).await?.into_inner()) }
    }

    /// Runs a transaction (`KV.Txn`).
    pub(super) fn txn(&self, request: TxnRequest) -> impl Future<Output = Rpc<TxnResponse>> {
        let mut kv = self.kv.clone();
        async move { Ok(kv.txn(request).await?.into_inner()) }
    }

    /// Grants a lease of `seconds` with an ID chosen by etcd (`Lease.LeaseGrant`).
    pub(super) fn lease_grant(
        &self,
        seconds: i64,
    ) -> impl Future<Output = Rpc<LeaseGrantResponse>> {
        let mut lease = self.lease.clone();
        let request = LeaseGrantRequest {
            ttl: seconds,
            id: 0,
        };
        async move { Ok(lease.lease_grant(request).await?.into_inner()) }
    }

    /// Ends lease `id` and deletes its keys (`Lease.LeaseRevoke`).
    pub(super) fn lease_revoke(&self, id: i64) -> impl Future<Output = Rpc<LeaseRevokeResponse>> {
        let mut lease = self.lease.clone();
        async move {
            let request = LeaseRevokeRequest { id };
            Ok(lease.lease_revoke(request).await?.into_inner())
        }
    }

    /// Opens a keep-alive stream for lease `id` and renews the lease once on it
    /// (`Lease.LeaseKeepAlive`). A lease etcd no longer knows is a `NotFound` status.
    pub(super) fn lease_keep_alive(&self, id: i64) -> impl Future<Output = Rpc<LeaseKeeper>> {
        let mut lease = self.lease.clone();
        async move {
            // etcd answers the call only with its first renewal: the request that asks
            // for it is queued before the call is made.
            let (requests, queued) = mpsc::channel(STREAM_REQUESTS);
            queue(&requests, LeaseKeepAliveRequest { id }).await?;
            let mut responses = lease
                .lease_keep_alive(ReceiverStream::new(queued))
                .await?
                .into_inner();
            match responses.message().await? {
                Some(first) if first.ttl > 0 => Ok(LeaseKeeper {
                    id,
                    requests,
                    responses,
                }),
                Some(_) => Err(Status::not_found(format!("lease {id:x} not found"))),
                None => Err(stream_closed()),
            }
        }
    }

    /// Opens a watch stream and sends `create` on it (`Watch.Watch`). etcd's first
    /// answer on the stream tells whether the watch was created.
    pub(super) fn watch(&self, create: WatchCreateRequest) -> impl Future<Output = Rpc<EtcdWatch>> {
        let mut watch = self.watch.clone();
        async move {
            // etcd answers the call only once the creation has arrived: it is queued
            // before the call is made.
            let (requests, queued) = mpsc::channel(STREAM_REQUESTS);
            let request = WatchRequest {
                request_union: Some(watch_request::RequestUnion::CreateRequest(create)),
            };
            queue(&requests, request).await?;
            let responses = watch.watch(ReceiverStream::new(queued)).await?.into_inner();
            Ok(EtcdWatch {
                _requests: requests,
                responses,
            })
        }
    }
}

/// Queues `request` on the request side of an open stream; a closed one means etcd (or
/// the connection) ended the stream.
async fn queue<T>(requests: &mpsc::Sender<T>, request: T) -> Rpc<()> {
    requests.send(request).await.map_err(|_| stream_closed())
}

/// The status of a call on a stream that has ended.
fn stream_closed() -> Status {
    Status::unavailable("etcd closed the stream")
}

/// The [`Endpoint`] of one etcd URL, with the options' time limits and keep-alives.
fn endpoint_of(url: &str, options: &EtcdOptions) -> Result<Endpoint, StoreError> {
    if url.starts_with("https://") {
        return Err(StoreError::Unavailable(format!(
            "etcd endpoint {url}: https is not supported, only http://"
        )));
    }
    let full = if url.starts_with("http://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    };
    let endpoint = Endpoint::from_shared(full)
        .map_err(|err| StoreError::Unavailable(format!("etcd endpoint {url}: {err}")))?;
    Ok(endpoint
        .connect_timeout(options.connect_timeout)
        .timeout(options.request_timeout)
        .http2_keep_alive_interval(PING_INTERVAL)
        .keep_alive_timeout(PING_TIMEOUT)
        .keep_alive_while_idle(false)
        .tcp_keepalive(Some(TCP_KEEPALIVE)))
}

/// An open etcd watch: the responses of one watch stream.
pub(super) struct EtcdWatch {
    /// The request side of the stream, kept open while the watch is read.
    _requests: mpsc::Sender<WatchRequest>,
    responses: Streaming<WatchResponse>,
}

impl EtcdWatch {
    /// The next response; `None` when etcd ended the stream.
    pub(super) async fn message(&mut self) -> Rpc<Option<WatchResponse>> {
        self.responses.message().await
    }
}

/// An open keep-alive stream for one lease.
pub(super) struct LeaseKeeper {
    id: i64,
    requests: mpsc::Sender<LeaseKeepAliveRequest>,
    responses: Streaming<LeaseKeepAliveResponse>,
}

impl LeaseKeeper {
    /// Renews the lease once: etcd's answer (its `ttl` is 0 or less when the lease is
    /// gone), or `None` when etcd ended the stream.
    pub(super) async fn renew(&mut self) -> Rpc<Option<LeaseKeepAliveResponse>> {
        queue(&self.requests, LeaseKeepAliveRequest { id: self.id }).await?;
        self.responses.message().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(url: &str) -> String {
        match endpoint_of(url, &EtcdOptions::default()) {
            Err(StoreError::Unavailable(message)) => message,
            Err(other) => panic!("{url}: unexpected error {other}"),
            Ok(endpoint) => panic!("{url}: accepted as {}", endpoint.uri()),
        }
    }

    #[test]
    fn endpoints_are_plain_http_urls() {
        let options = EtcdOptions::default();
        for (given, uri) in [
            ("http://127.0.0.1:2379", "http://127.0.0.1:2379/"),
            ("127.0.0.1:2379", "http://127.0.0.1:2379/"),
            ("etcd-1.internal:2379", "http://etcd-1.internal:2379/"),
        ] {
            let endpoint = endpoint_of(given, &options).map_err(|err| err.to_string());
            assert_eq!(
                endpoint.map(|endpoint| endpoint.uri().to_string()),
                Ok(uri.to_owned()),
                "{given}"
            );
        }
    }

    #[test]
    fn a_refused_endpoint_is_named() {
        let https = refusal("https://127.0.0.1:2379");
        assert!(https.contains("https://127.0.0.1:2379"), "{https}");
        assert!(https.contains("https is not supported"), "{https}");
        let malformed = refusal("http://etcd one:2379");
        assert!(malformed.contains("http://etcd one:2379"), "{malformed}");
    }
}
