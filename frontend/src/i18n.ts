// A small typed dictionary: English defines the keys, Chinese must translate every one of them
// (the type checker refuses a missing key). The Chinese strings follow the seed's UI.
import { computed, ref } from 'vue'
import { ApiError } from './api.ts'

const en = {
  'app.title': 'Flash Sale',
  'nav.shop': 'Shop',
  'nav.orders': 'Orders',
  'nav.admin': 'Admin',
  'nav.simulator': 'Flash-sale simulator',
  'nav.simulatorShort': 'Simulator',
  'nav.docs': 'API docs',
  'lang.switch': '中文',
  'lang.label': 'Language',

  'shop.search': 'Search products by name',
  'shop.empty': 'No products found.',
  'shop.loading': 'Loading products…',
  'shop.stock': 'In stock',
  'shop.soldOut': 'Sold out',
  'shop.quantity': 'Quantity',
  'shop.buy': 'Buy now',
  'shop.buying': 'Ordering…',
  'shop.limit': 'Limit {n} per buyer',
  'shop.live': 'Stock updates live',
  'shop.myOrders': 'Your orders this session',
  'shop.noOrders': 'Orders you place appear here with their outcome.',
  'shop.prev': 'Previous',
  'shop.next': 'Next',
  'shop.page': 'Page {page} of {pages}',

  'status.pending': 'Pending',
  'status.confirmed': 'Confirmed',
  'status.failed': 'Failed',
  'status.cancelled': 'Cancelled',
  'status.cancelRequested': 'Withdrawal requested',
  'status.rejected': 'Rejected',
  'status.all': 'All statuses',

  'orders.title': 'Order list',
  'orders.filterStatus': 'Status',
  'orders.product': 'Product',
  'orders.quantity': 'Quantity',
  'orders.status': 'Status',
  'orders.time': 'Time',
  'orders.reason': 'Reason',
  'orders.actions': 'Actions',
  'orders.withdraw': 'Withdraw order',
  'orders.withdrawConfirm': 'Withdraw order {id} ({qty} × {name})? Its units go back on sale.',
  'orders.withdrawn': 'Withdrawal requested for order {id}.',
  'orders.empty': 'No orders yet.',
  'orders.refresh': 'Refresh',
  'orders.total': '{n} orders',

  'admin.title': 'Inventory management',
  'admin.tokenPrompt': 'Admin token',
  'admin.tokenHint': 'Kept for this browser tab only (sessionStorage).',
  'admin.signIn': 'Sign in',
  'admin.signOut': 'Forget token',
  'admin.products': 'Products',
  'admin.create': 'New product',
  'admin.edit': 'Edit',
  'admin.save': 'Save',
  'admin.cancel': 'Cancel',
  'admin.restock': 'Restock',
  'admin.archive': 'Archive',
  'admin.archiveConfirm': 'Archive “{name}”? It leaves the shop and can no longer be bought.',
  'admin.created': 'Created product #{id}.',
  'admin.saved': 'Saved product #{id}.',
  'admin.restocked': 'Product #{id} now has {stock} in stock.',
  'admin.archived': 'Archived product #{id}.',
  'admin.reconcile': 'Stock reconciliation',
  'admin.reconcileHint': 'MySQL stock vs Redis available vs reservations not yet applied, per product.',
  'admin.refresh': 'Refresh report',
  'admin.sync': 'Sync stock',
  'admin.synced': 'Sync done: {set} set, {unchanged} unchanged, {busy} busy.',
  'admin.mysql': 'MySQL stock',
  'admin.redis': 'Redis available',
  'admin.pending': 'Pending',
  'admin.agrees': 'Agrees',
  'admin.yes': 'yes',
  'admin.no': 'NO',
  'admin.stale': 'Stale reservations',
  'admin.ageSeconds': 'Age (s)',
  'admin.allAgree': 'All products agree.',
  'admin.disagree': '{n} product(s) disagree.',

  'form.name': 'Name',
  'form.price': 'Price (¥)',
  'form.stock': 'Stock',
  'form.imageUrl': 'Image URL',
  'form.perUserLimit': 'Per-buyer limit',
  'form.optional': 'optional',
  'form.quantity': 'Quantity',
  'form.nameRequired': 'Name is required.',
  'form.nameTooLong': 'Name must be at most 200 characters.',
  'form.intRange': 'Must be a whole number from {min} to {max}.',
  'form.priceRange': 'Price must be from ¥0 to ¥1,000,000 with at most 2 decimals.',
  'form.urlInvalid': 'Must be an http(s) URL of at most 2048 characters.',

  'sim.title': 'Flash-sale simulator',
  'sim.hint': 'Fires orders from this browser, one buyer each, and checks the invariants when the sale is over. Run it on a product nobody else is buying.',
  'sim.product': 'Product',
  'sim.buyers': 'Buyers (N)',
  'sim.concurrency': 'Concurrency',
  'sim.quantity': 'Units per buyer',
  'sim.start': 'Start',
  'sim.stop': 'Stop',
  'sim.sent': 'Sent',
  'sim.accepted': 'Accepted',
  'sim.soldOut': 'Sold out',
  'sim.failed': 'Failed',
  'sim.stockNow': 'Stock now',
  'sim.stockStart': 'Stock at start',
  'sim.phase.idle': 'Ready',
  'sim.phase.firing': 'Firing orders…',
  'sim.phase.settling': 'Waiting for {n} pending order(s)…',
  'sim.phase.done': 'Finished',
  'sim.phase.stopped': 'Stopped',
  'sim.verdict': 'Verdict',
  'sim.confirmedUnits': 'Units confirmed',
  'sim.unitsSold': 'Units the product lost',
  'sim.oversold': 'Oversold',
  'sim.failedOrders': 'Accepted then failed',
  'sim.ok': 'No oversell: units confirmed = units sold, oversold = 0.',
  'sim.bad': 'Invariant broken: units confirmed ≠ units sold, or oversold > 0.',
  'sim.errors': 'Failure reasons',
  'sim.noProducts': 'Create a product in Admin first.',

  'common.loading': 'Loading…',
  'common.retry': 'Retry',
  'common.close': 'Close',
  'common.confirm': 'Confirm',
  'common.cancel': 'Cancel',
  'common.dismiss': 'Dismiss',

  'error.PRODUCT_NOT_FOUND': 'This product does not exist or is no longer on sale.',
  'error.INSUFFICIENT_STOCK': 'Insufficient stock.',
  'error.INSUFFICIENT_STOCK_N': 'Insufficient stock: only {n} left.',
  'error.PER_USER_LIMIT': 'You have reached the purchase limit for this product.',
  'error.IDEMPOTENCY_KEY_REUSED': 'This request was already used for a different order.',
  'error.RATE_LIMITED': 'Too many requests, please try again in a moment.',
  'error.SERVICE_UNAVAILABLE': 'The service is busy, please try again shortly.',
  'error.VALIDATION_FAILED': 'Invalid input: {message}',
  'error.ORDER_NOT_FOUND': 'Order not found.',
  'error.ORDER_NOT_CANCELLABLE': 'This order can no longer be withdrawn.',
  'error.UNAUTHORIZED': 'The admin token is missing.',
  'error.FORBIDDEN': 'The admin token is wrong.',
  'error.NETWORK_ERROR': 'Cannot reach the server. Check your connection.',
  'error.BAD_GATEWAY': 'The service is not reachable right now (HTTP {status}).',
  'error.HTTP_ERROR': 'Request failed (HTTP {status}).',

  // --- sale windows, outcomes at the button, every server code and reason -------------------
  'sale.startsIn': 'Starts in {time}',
  'sale.startsAt': 'Sale starts {when}',
  'sale.endsIn': 'Ends in {time}',
  'sale.ended': 'Sale ended',
  'sale.upcoming': 'Coming soon',
  'sale.notYet': 'Not yet',
  'sale.days': '{n}d',
  'shop.hideSoldOut': 'Hide sold out',
  'shop.limitLeft': 'You may buy {n} more',
  'shop.limitReached': 'You have reached the limit',
  'shop.fullName': 'Full name',
  'outcome.pending': 'Order placed: {qty} × {name}. Confirming…',
  'outcome.confirmed': 'Order confirmed: {qty} × {name}.',
  'outcome.failed': 'Order for {name} failed: {reason}',
  'outcome.cancelled': 'Order for {name} was withdrawn.',
  'outcome.rejected': 'Not ordered ({name}): {reason}',
  'toast.close': 'Close notification',
  'outcome.card.pending': 'Order placed ({qty}). Confirming…',
  'outcome.card.confirmed': 'Order confirmed: {qty} bought.',
  'outcome.card.failed': 'Order failed: {reason}',
  'outcome.card.cancelled': 'Order withdrawn.',
  'outcome.card.rejected': 'Not ordered: {reason}',
  'error.SALE_NOT_STARTED': 'The sale has not started yet.',
  'error.SALE_NOT_STARTED_AT': 'The sale has not started yet: it starts {when}.',
  'error.SALE_ENDED': 'The sale has ended.',
  'error.PRODUCT_ARCHIVED': 'This product is archived: it cannot be changed or restocked.',
  'error.NOT_FOUND': 'Not found.',
  'error.METHOD_NOT_ALLOWED': 'This action is not supported.',
  'error.INVALID_JSON': 'The request could not be read.',
  'error.BODY_TOO_LARGE': 'The request is too large.',
  'error.UNSUPPORTED_MEDIA_TYPE': 'The request format is not supported.',
  'error.INTERNAL_ERROR': 'Something went wrong on our side. Please retry.',
  'error.SERVER': 'Something went wrong. Please retry.',
  'error.VALIDATION_FIELD': 'Invalid input: {field}.',
  'error.UNKNOWN': 'The request was refused ({code}).',
  'error.PER_USER_LIMIT_N': 'Purchase limit: you may buy {n} more.',
  'reason.product not found': 'The product no longer exists.',
  'reason.product archived': 'The product was taken off sale.',
  'reason.reservation released': 'Your reservation expired before the order was processed.',
  'reason.insufficient stock': 'It sold out before your order was processed.',
  'reason.cancelled by customer': 'Withdrawn by the buyer.',
  'reason.unknown': 'The order could not be completed.',
  'admin.createdNamed': 'Created “{name}” (#{id}).',
  'admin.savedNamed': 'Saved “{name}” (#{id}).',
  'admin.restockedNamed': '“{name}” (#{id}) now has {stock} in stock.',
  'admin.archivedNamed': 'Archived “{name}” (#{id}).',
  'admin.image': 'Image',
  'admin.window': 'Sale window',
  'admin.unitsSold': 'Sold',
  'admin.noLimit': '—',
  'admin.always': 'Always on sale',
  'admin.from': 'from {when}',
  'admin.until': 'until {when}',
  'admin.reconcileCount': '{n} product(s)',
  'admin.orderId': 'Order',
  'form.saleStartsAt': 'Sale starts (your local time)',
  'form.saleEndsAt': 'Sale ends (your local time)',
  'form.windowOrder': 'The end must be after the start.',
  'form.dateInvalid': 'Enter a date and time.',
  'sim.invalidProduct': 'Choose a product to run the sale on.',
  'sim.invalidField': '{field}: must be a whole number from {min} to {max}.',
  // --- buyers, sessions, guest orders ---
  'auth.signIn': 'Sign in',
  'auth.register': 'Register',
  'auth.signOut': 'Sign out',
  'auth.signedInAs': 'Signed in as {name}',
  'auth.username': 'Username',
  'auth.password': 'Password',
  'auth.rules': 'Username: 3–32 letters, digits, _ . - ; password: 8–128 characters.',
  'auth.guestHint': 'Not signed in: you order as a guest (products with a per-buyer limit need an account).',
  'orders.allBuyers': 'All buyers (admin)',
  'orders.buyer': 'Buyer',
  'orders.guestBuyer': 'Guest',
  'orders.guest': 'Not signed in: the guest orders placed in this tab are shown. Sign in to see your orders.',
  'orders.mineOf': 'Orders of {name}',
  'sim.phase.signing-in': 'Signing buyers in… {n}/{total}',
  'error.UNAUTHENTICATED': 'Your session has ended. Please sign in again.',
  'error.SIGN_IN_REQUIRED': 'Please sign in first (products with a per-buyer limit and the order list need an account).',
  'error.INVALID_CREDENTIALS': 'Username or password is not correct.',
  'error.USERNAME_TAKEN': 'This username is taken. Please choose another.',
  'queue.title': 'Waiting room',
  'queue.join': 'Join the queue',
  'queue.joining': 'Taking your place…',
  'queue.signIn': 'Sign in to take a place in the queue: a place belongs to an account.',
  'queue.position': 'Your place: {n}',
  'queue.ahead': '{n} ahead of you · {total} waiting',
  'queue.eta': 'Estimated wait: {time}',
  'queue.etaUnknown': 'Estimating the wait…',
  'queue.shuffle': 'Everyone who joins before the sale starts is shuffled at the start: arriving early gives no advantage.',
  'queue.stock': 'Units left: {n}',
  'queue.yourTurn': "It's your turn — buy within {time}",
  'queue.passExpired': 'Your turn has passed. Join the queue again.',
  'queue.soldOut': 'Sold out. You keep your place in case units come back.',
  'queue.none': 'You have no place in this queue (it was freed after you stopped checking).',
  'queue.bought': 'Ordered! Follow it on the orders page.',
  'queue.freed': '{n} places freed by buyers who left',
  'queue.back': 'Back to the shop',
  'error.ROOM_NOT_FOUND': 'This product has no waiting room: order it directly.',
  'error.ROOM_NOT_OPEN': 'The waiting room is not open yet.',
  'error.ROOM_PASS_REQUIRED': 'This product sells through its waiting room: join the queue first.',
  'error.ROOM_PASS_INVALID': 'Your turn is no longer valid (used or expired). Join the queue again.',
} as const

export type MessageKey = keyof typeof en

const zh: Record<MessageKey, string> = {
  'app.title': '秒杀商城',
  'nav.shop': '商城',
  'nav.orders': '订单列表',
  'nav.admin': '库存管理',
  'nav.simulator': '秒杀模拟',
  'nav.simulatorShort': '秒杀模拟',
  'nav.docs': '接口文档',
  'lang.switch': 'English',
  'lang.label': '语言',

  'shop.search': '按名称搜索商品',
  'shop.empty': '没有找到商品。',
  'shop.loading': '正在加载商品…',
  'shop.stock': '库存',
  'shop.soldOut': '已售罄',
  'shop.quantity': '数量',
  'shop.buy': '立即抢购',
  'shop.buying': '下单中…',
  'shop.limit': '每人限购 {n} 件',
  'shop.live': '库存实时更新',
  'shop.myOrders': '本次下单记录',
  'shop.noOrders': '下单后将在此显示订单结果。',
  'shop.prev': '上一页',
  'shop.next': '下一页',
  'shop.page': '第 {page} / {pages} 页',

  'status.pending': '处理中',
  'status.confirmed': '已确认',
  'status.failed': '失败',
  'status.cancelled': '已撤单',
  'status.cancelRequested': '撤单处理中',
  'status.rejected': '下单失败',
  'status.all': '全部状态',

  'orders.title': '订单列表',
  'orders.filterStatus': '状态',
  'orders.product': '商品',
  'orders.quantity': '数量',
  'orders.status': '状态',
  'orders.time': '时间',
  'orders.reason': '原因',
  'orders.actions': '操作',
  'orders.withdraw': '撤单',
  'orders.withdrawConfirm': '确定撤销订单 {id}（{qty} × {name}）吗？库存将退回。',
  'orders.withdrawn': '已提交订单 {id} 的撤单请求。',
  'orders.empty': '暂无订单。',
  'orders.refresh': '刷新',
  'orders.total': '共 {n} 个订单',

  'admin.title': '库存管理',
  'admin.tokenPrompt': '管理员令牌',
  'admin.tokenHint': '仅保存在当前标签页（sessionStorage）。',
  'admin.signIn': '登录',
  'admin.signOut': '清除令牌',
  'admin.products': '商品管理',
  'admin.create': '新增商品',
  'admin.edit': '编辑',
  'admin.save': '保存',
  'admin.cancel': '取消',
  'admin.restock': '补货',
  'admin.archive': '下架',
  'admin.archiveConfirm': '确定下架“{name}”吗？下架后将无法购买。',
  'admin.created': '已创建商品 #{id}。',
  'admin.saved': '已保存商品 #{id}。',
  'admin.restocked': '商品 #{id} 当前库存 {stock}。',
  'admin.archived': '已下架商品 #{id}。',
  'admin.reconcile': '库存对账',
  'admin.reconcileHint': '按商品对比 MySQL 库存、Redis 可售库存与未落库的预占。',
  'admin.refresh': '刷新报表',
  'admin.sync': '同步库存',
  'admin.synced': '同步完成：设置 {set} 个，未变 {unchanged} 个，繁忙 {busy} 个。',
  'admin.mysql': 'MySQL 库存',
  'admin.redis': 'Redis 可售',
  'admin.pending': '预占中',
  'admin.agrees': '一致',
  'admin.yes': '是',
  'admin.no': '否',
  'admin.stale': '超时预占',
  'admin.ageSeconds': '时长（秒）',
  'admin.allAgree': '所有商品库存一致。',
  'admin.disagree': '{n} 个商品库存不一致。',

  'form.name': '商品名称',
  'form.price': '价格（元）',
  'form.stock': '库存',
  'form.imageUrl': '图片地址',
  'form.perUserLimit': '每人限购',
  'form.optional': '选填',
  'form.quantity': '数量',
  'form.nameRequired': '请填写商品名称。',
  'form.nameTooLong': '商品名称最多 200 个字符。',
  'form.intRange': '请输入 {min} 到 {max} 之间的整数。',
  'form.priceRange': '价格须在 ¥0 到 ¥1,000,000 之间，最多两位小数。',
  'form.urlInvalid': '请输入 http(s) 地址，最多 2048 个字符。',

  'sim.title': '秒杀模拟',
  'sim.hint': '由本浏览器模拟多个用户同时下单，结束后校验不变量。请选择没有其他人购买的商品。',
  'sim.product': '商品',
  'sim.buyers': '用户数 (N)',
  'sim.concurrency': '并发数',
  'sim.quantity': '每人购买数量',
  'sim.start': '开始',
  'sim.stop': '停止',
  'sim.sent': '已发送',
  'sim.accepted': '已受理',
  'sim.soldOut': '库存不足',
  'sim.failed': '失败',
  'sim.stockNow': '当前库存',
  'sim.stockStart': '初始库存',
  'sim.phase.idle': '就绪',
  'sim.phase.firing': '正在下单…',
  'sim.phase.settling': '等待 {n} 个处理中的订单…',
  'sim.phase.done': '已完成',
  'sim.phase.stopped': '已停止',
  'sim.verdict': '结论',
  'sim.confirmedUnits': '已确认件数',
  'sim.unitsSold': '库存减少件数',
  'sim.oversold': '超卖件数',
  'sim.failedOrders': '受理后失败',
  'sim.ok': '没有超卖：已确认件数 = 已售件数，超卖 = 0。',
  'sim.bad': '不变量被破坏：已确认件数 ≠ 已售件数，或出现超卖。',
  'sim.errors': '失败原因',
  'sim.noProducts': '请先在库存管理中创建商品。',

  'common.loading': '加载中…',
  'common.retry': '重试',
  'common.close': '关闭',
  'common.confirm': '确定',
  'common.cancel': '取消',
  'common.dismiss': '关闭',

  'error.PRODUCT_NOT_FOUND': '商品不存在或已下架。',
  'error.INSUFFICIENT_STOCK': '库存不足',
  'error.INSUFFICIENT_STOCK_N': '库存不足，仅剩 {n} 件。',
  'error.PER_USER_LIMIT': '已达到该商品的限购数量。',
  'error.IDEMPOTENCY_KEY_REUSED': '该请求已用于另一个订单。',
  'error.RATE_LIMITED': '请求过于频繁，请稍后再试。',
  'error.SERVICE_UNAVAILABLE': '服务繁忙，请稍后再试。',
  'error.VALIDATION_FAILED': '输入有误：{message}',
  'error.ORDER_NOT_FOUND': '订单不存在。',
  'error.ORDER_NOT_CANCELLABLE': '该订单已无法撤单。',
  'error.UNAUTHORIZED': '缺少管理员令牌。',
  'error.FORBIDDEN': '管理员令牌错误。',
  'error.NETWORK_ERROR': '无法连接服务器，请检查网络。',
  'error.BAD_GATEWAY': '服务暂时不可用（HTTP {status}）。',
  'error.HTTP_ERROR': '请求失败（HTTP {status}）。',

  // --- sale windows, outcomes at the button, every server code and reason -------------------
  'sale.startsIn': '{time} 后开抢',
  'sale.startsAt': '开抢时间 {when}',
  'sale.endsIn': '距结束 {time}',
  'sale.ended': '抢购已结束',
  'sale.upcoming': '即将开抢',
  'sale.notYet': '未开始',
  'sale.days': '{n}天',
  'shop.hideSoldOut': '隐藏已售罄',
  'shop.limitLeft': '您还可购买 {n} 件',
  'shop.limitReached': '已达限购数量',
  'shop.fullName': '完整名称',
  'outcome.pending': '已下单：{qty} × {name}，正在确认…',
  'outcome.confirmed': '抢购成功：{qty} × {name}。',
  'outcome.failed': '「{name}」订单失败：{reason}',
  'outcome.cancelled': '「{name}」订单已撤销。',
  'outcome.rejected': '未能下单（{name}）：{reason}',
  'toast.close': '关闭通知',
  'outcome.card.pending': '已下单（{qty} 件），正在确认…',
  'outcome.card.confirmed': '抢购成功：{qty} 件。',
  'outcome.card.failed': '订单失败：{reason}',
  'outcome.card.cancelled': '订单已撤销。',
  'outcome.card.rejected': '未能下单：{reason}',
  'error.SALE_NOT_STARTED': '抢购尚未开始。',
  'error.SALE_NOT_STARTED_AT': '抢购尚未开始，开始时间：{when}。',
  'error.SALE_ENDED': '抢购已结束。',
  'error.PRODUCT_ARCHIVED': '该商品已下架，不能修改或补货。',
  'error.NOT_FOUND': '未找到。',
  'error.METHOD_NOT_ALLOWED': '不支持该操作。',
  'error.INVALID_JSON': '请求无法解析。',
  'error.BODY_TOO_LARGE': '请求内容过大。',
  'error.UNSUPPORTED_MEDIA_TYPE': '不支持的请求格式。',
  'error.INTERNAL_ERROR': '服务器出错了，请重试。',
  'error.SERVER': '出错了，请重试。',
  'error.VALIDATION_FIELD': '输入有误：{field}。',
  'error.UNKNOWN': '请求被拒绝（{code}）。',
  'error.PER_USER_LIMIT_N': '已达限购：您还可购买 {n} 件。',
  'reason.product not found': '商品不存在。',
  'reason.product archived': '商品已下架。',
  'reason.reservation released': '预占已过期，订单未能处理。',
  'reason.insufficient stock': '处理订单时库存已售罄。',
  'reason.cancelled by customer': '已由买家撤单。',
  'reason.unknown': '订单未能完成。',
  'admin.createdNamed': '已创建商品「{name}」（#{id}）。',
  'admin.savedNamed': '已保存商品「{name}」（#{id}）。',
  'admin.restockedNamed': '商品「{name}」（#{id}）当前库存 {stock}。',
  'admin.archivedNamed': '已下架商品「{name}」（#{id}）。',
  'admin.image': '图片',
  'admin.window': '抢购时间',
  'admin.unitsSold': '已售',
  'admin.noLimit': '—',
  'admin.always': '不限时',
  'admin.from': '{when} 起',
  'admin.until': '至 {when}',
  'admin.reconcileCount': '共 {n} 个商品',
  'admin.orderId': '订单号',
  'form.saleStartsAt': '开抢时间（本地时间）',
  'form.saleEndsAt': '结束时间（本地时间）',
  'form.windowOrder': '结束时间须晚于开始时间。',
  'form.dateInvalid': '请输入日期和时间。',
  'sim.invalidProduct': '请选择要模拟抢购的商品。',
  'sim.invalidField': '{field}：须为 {min} 到 {max} 之间的整数。',
  // --- buyers, sessions, guest orders ---
  'auth.signIn': '登录',
  'auth.register': '注册',
  'auth.signOut': '退出登录',
  'auth.signedInAs': '已登录：{name}',
  'auth.username': '用户名',
  'auth.password': '密码',
  'auth.rules': '用户名：3–32 个字母、数字或 _ . - ；密码：8–128 个字符。',
  'auth.guestHint': '未登录：将以游客身份下单（限购商品需要登录）。',
  'orders.allBuyers': '全部用户（管理员）',
  'orders.buyer': '买家',
  'orders.guestBuyer': '游客',
  'orders.guest': '未登录：显示本标签页内的游客订单。登录后可查看您的订单。',
  'orders.mineOf': '{name} 的订单',
  'sim.phase.signing-in': '正在登录模拟用户… {n}/{total}',
  'error.UNAUTHENTICATED': '登录已失效，请重新登录。',
  'error.SIGN_IN_REQUIRED': '请先登录（限购商品和订单列表需要账号）。',
  'error.INVALID_CREDENTIALS': '用户名或密码错误。',
  'error.USERNAME_TAKEN': '该用户名已被占用，请换一个。',
  'queue.title': '排队室',
  'queue.join': '排队购买',
  'queue.joining': '正在为您排队…',
  'queue.signIn': '请先登录再排队：每个排队位置属于一个账户。',
  'queue.position': '您的位置：第 {n} 位',
  'queue.ahead': '前面还有 {n} 人 · 共 {total} 人在排队',
  'queue.eta': '预计等待：{time}',
  'queue.etaUnknown': '正在估算等待时间…',
  'queue.shuffle': '开售前加入的所有人将在开售时随机排序：早到没有优势。',
  'queue.stock': '剩余库存：{n}',
  'queue.yourTurn': '轮到您了——请在 {time} 内下单',
  'queue.passExpired': '您的购买资格已过期，请重新排队。',
  'queue.soldOut': '已售罄。如有库存回流，您的位置仍然保留。',
  'queue.none': '您在此队列中没有位置（停止刷新后位置已被释放）。',
  'queue.bought': '下单成功！可在订单页查看进度。',
  'queue.freed': '已有 {n} 个离开者的位置被释放',
  'queue.back': '返回商城',
  'error.ROOM_NOT_FOUND': '该商品没有排队室，可直接下单。',
  'error.ROOM_NOT_OPEN': '排队室尚未开放。',
  'error.ROOM_PASS_REQUIRED': '该商品需排队购买：请先加入排队。',
  'error.ROOM_PASS_INVALID': '您的购买资格已失效（已使用或已过期），请重新排队。',
}

export type Locale = 'en' | 'zh'

const dictionaries: Record<Locale, Record<MessageKey, string>> = { en, zh }
const STORAGE_KEY = 'flash.locale'

function initialLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY)
  if (saved === 'en' || saved === 'zh') return saved
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en'
}

export const locale = ref<Locale>(initialLocale())

export function setLocale(next: Locale): void {
  locale.value = next
  localStorage.setItem(STORAGE_KEY, next)
  document.documentElement.lang = next === 'zh' ? 'zh-CN' : 'en'
}
document.documentElement.lang = locale.value === 'zh' ? 'zh-CN' : 'en'

export type Params = Record<string, string | number>

/** Reactive through `locale`: templates calling t() re-render when the language changes. */
export function t(key: MessageKey, params: Params = {}): string {
  const template = dictionaries[locale.value][key]
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole))
}

function isMessageKey(key: string): key is MessageKey {
  return key in en
}

/**
 * A readable, translated message for anything a request can throw. Never the server's
 * own text in the Chinese UI — every stable code has its sentence, a 5xx says "something went
 * wrong, retry", and an unknown code is named, not quoted.
 */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) {
    if (err.code === 'INSUFFICIENT_STOCK' && err.available !== undefined && err.available > 0) {
      return t('error.INSUFFICIENT_STOCK_N', { n: err.available })
    }
    if (err.code === 'PER_USER_LIMIT' && typeof err.details.remaining === 'number' && err.details.remaining > 0) {
      return t('error.PER_USER_LIMIT_N', { n: err.details.remaining })
    }
    if (err.code === 'SALE_NOT_STARTED' && typeof err.details.saleStartsAt === 'string') {
      return t('error.SALE_NOT_STARTED_AT', { when: formatTime(err.details.saleStartsAt) })
    }
    if (err.code === 'VALIDATION_FAILED') {
      // The server names the field ("body/saleEndsAt must be …"); English readers get the sentence.
      if (locale.value === 'en') return t('error.VALIDATION_FAILED', { message: err.message })
      const field = /(?:body|querystring|params|headers)\/(\w+)/.exec(err.message)?.[1]
      return field !== undefined ? t('error.VALIDATION_FIELD', { field }) : t('error.VALIDATION_FIELD', { field: '—' })
    }
    const key = `error.${err.code}`
    if (isMessageKey(key)) return t(key, { status: err.status })
    if (err.status >= 500) return t('error.SERVER')
    return t('error.UNKNOWN', { code: err.code })
  }
  return t('error.SERVER')
}

/** The sentence for a bare error code (the simulator counts refusals by code). */
export function codeText(code: string): string {
  if (code === 'VALIDATION_FAILED') return t('error.VALIDATION_FIELD', { field: '—' })
  const key = `error.${code}`
  return isMessageKey(key) ? t(key, { status: 502, message: '' }) : t('error.UNKNOWN', { code })
}

/** A processor's failure reason ("insufficient stock", "cancelled by customer", …) in the UI's language. */
export function reasonText(reason: string): string {
  const key = `reason.${reason}`
  return isMessageKey(key) ? t(key) : t('reason.unknown')
}

const dateFormats = computed(
  () => new Intl.DateTimeFormat(locale.value === 'zh' ? 'zh-CN' : 'en-GB', { dateStyle: 'short', timeStyle: 'medium' }),
)

export function formatTime(iso: string): string {
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? iso : dateFormats.value.format(date)
}

const money = new Intl.NumberFormat('zh-CN', { style: 'currency', currency: 'CNY' })

/** Prices are integer cents in the API. */
export function formatPrice(cents: number): string {
  return money.format(cents / 100)
}
