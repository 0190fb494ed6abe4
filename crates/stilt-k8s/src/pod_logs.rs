//! Following a container's log, line by line, so a pod's output lands in its resource's log
//! (and in the JUnit system-out of the resource) the way `tilt ci` shows it.

use crate::Cluster;
use futures_util::{AsyncBufReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::LogParams;

/// Follows the log of `container` in pod `namespace/pod` until it ends or the task is dropped.
/// Each line goes to `on_line`; a failure to open or read the stream ends with `Err`.
pub async fn follow_container_log(
    cluster: Cluster,
    namespace: String,
    pod: String,
    container: String,
    mut on_line: impl FnMut(String) + Send,
) -> Result<(), String> {
    let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &namespace);
    let params = LogParams { container: Some(container.clone()), follow: true, ..LogParams::default() };
    let stream = api
        .log_stream(&pod, &params)
        .await
        .map_err(|e| format!("failed to follow the log of container {container} in pod {namespace}/{pod}: {e}"))?;
    let mut lines = stream.lines();
    while let Some(line) = lines.next().await {
        match line {
            Ok(l) => on_line(l),
            Err(e) => return Err(format!("the log of container {container} in pod {namespace}/{pod} broke off: {e}")),
        }
    }
    Ok(())
}
