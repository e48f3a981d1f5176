//! A TCP proxy that can be cut and restored, to put a database outage between a server and
//! PostgreSQL without touching the PostgreSQL service. It runs on a thread of its own, so it
//! keeps forwarding while a test blocks.

use std::{
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    thread,
};

use tokio::{net::TcpListener, sync::oneshot, task::JoinHandle};

pub struct Proxy {
    pub address: SocketAddr,
    cut: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Proxy {
    /// Forwards connections on a free local port to `target` (`host:port`).
    pub fn start(target: &str) -> Proxy {
        let cut = Arc::new(AtomicBool::new(false));
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let (target, cut_flag, open) = (
            target.to_owned(),
            Arc::clone(&cut),
            Arc::clone(&connections),
        );
        let thread = thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
                address_tx
                    .send(listener.local_addr().expect("address"))
                    .expect("address");
                let accept = async {
                    loop {
                        let Ok((mut inbound, _)) = listener.accept().await else {
                            continue;
                        };
                        if cut_flag.load(Ordering::SeqCst) {
                            continue; // dropped: the connection is refused
                        }
                        let target = target.clone();
                        let task = tokio::spawn(async move {
                            if let Ok(mut outbound) = tokio::net::TcpStream::connect(&target).await
                            {
                                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound)
                                    .await;
                            }
                        });
                        if let Ok(mut open) = open.lock() {
                            open.push(task);
                        }
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stop_rx => {}
                }
            });
        });
        Proxy {
            address: address_rx.recv().expect("proxy started"),
            cut,
            connections,
            stop: Some(stop_tx),
            thread: Some(thread),
        }
    }

    /// Breaks every open connection and refuses new ones.
    pub fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        if let Ok(mut open) = self.connections.lock() {
            for task in open.drain(..) {
                task.abort();
            }
        }
    }

    pub fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.cut();
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
