import { createRouter, createWebHistory } from 'vue-router'
import ShopView from './views/ShopView.vue'

export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', name: 'shop', component: ShopView },
    { path: '/orders', name: 'orders', component: () => import('./views/OrdersView.vue') },
    { path: '/product/:id(\\d+)', name: 'product', component: () => import('./views/ProductView.vue') },
    { path: '/pay/:orderId', name: 'pay', component: () => import('./views/CheckoutView.vue') },
    { path: '/admin', name: 'admin', component: () => import('./views/AdminView.vue') },
    { path: '/queue/:productId(\\d+)', name: 'queue', component: () => import('./views/QueueView.vue') },
    { path: '/simulator', name: 'simulator', component: () => import('./views/SimulatorView.vue') },
    { path: '/:pathMatch(.*)*', redirect: '/' },
  ],
})
