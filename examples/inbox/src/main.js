// A minimal Inbox on @novu/js, pointed at Herald. Configuration comes from the page's query:
// ?applicationIdentifier=...&subscriberId=...&subscriberHash=...&backendUrl=http://127.0.0.1:3000
// (socketUrl defaults to backendUrl: Herald serves socket.io on the API's own port).
import { Novu } from '@novu/js';

const params = new URLSearchParams(window.location.search);
const backendUrl = params.get('backendUrl') || 'http://127.0.0.1:3000';
const novu = new Novu({
  applicationIdentifier: params.get('applicationIdentifier') || '',
  subscriber: { subscriberId: params.get('subscriberId') || '' },
  subscriberHash: params.get('subscriberHash') || undefined,
  backendUrl,
  socketUrl: params.get('socketUrl') || backendUrl,
});

const badge = document.getElementById('badge');
const list = document.getElementById('notifications');
const status = document.getElementById('status');
let notifications = [];

function render() {
  list.replaceChildren(
    ...notifications.map((notification) => {
      const item = document.createElement('li');
      item.dataset.id = notification.id;
      item.dataset.read = String(notification.isRead);
      item.className = notification.isRead ? 'read' : 'unread';
      const body = document.createElement('span');
      body.className = 'body';
      body.textContent = notification.subject ? `${notification.subject}: ${notification.body}` : notification.body;
      item.append(body);
      if (!notification.isRead) {
        const button = document.createElement('button');
        button.textContent = 'Mark read';
        button.addEventListener('click', async () => {
          const { data, error } = await notification.read();
          if (error) { status.textContent = `error: ${error.message}`; return; }
          notifications = notifications.map((each) => (each.id === data.id ? data : each));
          render();
        });
        item.append(button);
      }
      return item;
    })
  );
}

async function refreshCount() {
  const { data, error } = await novu.notifications.count({ read: false, archived: false, snoozed: false });
  if (!error) badge.textContent = String(data.count);
}

async function load() {
  const { data, error } = await novu.notifications.list({ limit: 20 });
  if (error) {
    status.textContent = `error: ${error.message}`;
    return;
  }
  notifications = data.notifications;
  render();
  await refreshCount();
  status.textContent = 'ready';
}

novu.on('notifications.notification_received', ({ result }) => {
  notifications = [result, ...notifications.filter((each) => each.id !== result.id)];
  render();
});
novu.on('notifications.unread_count_changed', ({ result }) => {
  badge.textContent = String(result.total);
});
novu.on('session.initialize.resolved', ({ error }) => {
  if (error) status.textContent = `session error: ${error.message}`;
});

load();
